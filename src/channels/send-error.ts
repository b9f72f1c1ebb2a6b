// A channel's own reason a send cannot go on, with whether another try may help: the sender turns it into
// a `retry` or a `failed` outcome (ports.ts).

export class ChannelSendError extends Error {
  override name = 'ChannelSendError'

  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
