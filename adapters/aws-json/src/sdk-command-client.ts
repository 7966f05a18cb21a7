import type { AwsJsonClient } from "./client.js";

/** What these adapters use of an AWS SDK v3 client (structural: this package does not import the SDK). */
export interface SdkClient {
  send(command: never): Promise<object>;
  destroy(): void;
}

/** An SDK Command class: `new GetItemCommand(input)`. */
export type SdkCommand = new (input: never) => unknown;

/**
 * An AwsJsonClient on an AWS SDK client: each operation name maps to its Command class (named one by one
 * by the adapter, so a bundle keeps only those), outputs come back without the SDK's `$metadata`. The
 * SDK brings what the REST client leaves out: its credential provider chain (instance and container
 * roles, profiles, SSO), FIPS and dual-stack endpoints. A client the caller passed in is not destroyed.
 */
export class SdkCommandClient implements AwsJsonClient {
  constructor(
    private readonly sdk: SdkClient,
    private readonly commands: Readonly<Record<string, SdkCommand>>,
    /** Whether destroy() destroys the SDK client (false for a client the caller passed in). */
    private readonly owned: boolean,
    /** Who is calling, for the error about an operation without a command. */
    private readonly who: string,
  ) {}

  async call<O = Record<string, unknown>>(operation: string, input: object): Promise<O> {
    const Command = this.commands[operation];
    if (Command === undefined) {
      throw new TypeError(
        `${this.who}'s SDK client does not send ${operation}; it knows ${Object.keys(this.commands).join(", ")}`,
      );
    }
    const { $metadata: _metadata, ...output } = (await this.sdk.send(
      new Command(input as never) as never,
    )) as {
      $metadata?: unknown;
    };
    return output as O;
  }

  destroy(): void {
    if (this.owned) this.sdk.destroy();
  }
}
