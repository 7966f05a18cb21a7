/**
 * The JetStream objects behind one queue. The main stream has work-queue retention (an acked message is
 * gone) and three subjects, each read by its own durable consumer:
 *
 * - `<subject>`: the messages; the consumer the workers pull from.
 * - `<subject>.delayed`: messages published with `delayMs`, moved to `<subject>` when due.
 * - `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<consumer>`: the server's advisory that a message
 *   ran out of deliveries; capturing it in the stream makes dead-lettering survive a process crash.
 *
 * Dead letters live in `<stream>_DLQ` on `<subject>.dead-letters` (limits retention: kept until redriven).
 */
export interface QueueTopology {
  stream: string;
  subject: string;
  consumer: string;
  delayedSubject: string;
  delayedConsumer: string;
  exhaustedSubject: string;
  exhaustedConsumer: string;
  deadLetterStream: string;
  deadLetterSubject: string;
}

export function queueTopology(stream: string, subject: string, consumer: string): QueueTopology {
  return {
    stream,
    subject,
    consumer,
    delayedSubject: `${subject}.delayed`,
    delayedConsumer: `${consumer}_delayed`,
    exhaustedSubject: `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${consumer}`,
    exhaustedConsumer: `${consumer}_exhausted`,
    deadLetterStream: `${stream}_DLQ`,
    deadLetterSubject: `${subject}.dead-letters`,
  };
}
