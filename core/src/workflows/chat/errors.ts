/** Errors of the chat service, each with what went wrong and how to fix it; the API maps them to problems. */

export class ChatSessionNotFoundError extends Error {
  override readonly name = "ChatSessionNotFoundError";
  constructor(readonly sessionId: string) {
    super(`chat session "${sessionId}" does not exist (or is not yours); GET /v1/chat/sessions lists yours`);
  }
}

/** Bad input the schemas could not catch (an unknown context kind, a cursor from elsewhere). */
export class ChatInputError extends Error {
  override readonly name = "ChatInputError";
  constructor(
    message: string,
    /** Where in the request, e.g. `context[1].kind`. */
    readonly path: string,
    readonly status: 400 | 422 = 422,
  ) {
    super(message);
  }
}

/** The session is busy with a turn that has not finished (running, or waiting for an approval). */
export class ChatTurnInProgressError extends Error {
  override readonly name = "ChatTurnInProgressError";
  constructor(
    readonly sessionId: string,
    readonly runId: string,
    readonly runStatus: string,
  ) {
    super(
      `chat session "${sessionId}" is still answering the previous message (run "${runId}" is ${runStatus}); wait for it${runStatus === "waiting" ? " or decide its pending approval (POST /v1/runs/{id}/steps/{stepId}/approve or reject)" : ""}, then send again`,
    );
  }
}
