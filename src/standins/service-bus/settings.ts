/**
 * What the Service Bus stand-in is configured with (docs/service-bus-standin.md, "Settings"): the SAS
 * keys it accepts and the entity properties Azure sets per queue, here one set for every queue.
 */
export interface ServiceBusSettings {
  /**
   * SAS keys by key name (`skn`); a key is used as the UTF-8 bytes of the string, as the reference and
   * Azure do. The sandbox's key will come from the ServiceRegistry stand-in's `/sastoken`.
   */
  keys: Record<string, string>
  /** how long a peek-lock holds a message (Azure's `LockDuration`, default 1 minute) */
  lockDurationMs: number
  /** deliveries before a message is dead-lettered (Azure's `MaxDeliveryCount`, default 10) */
  maxDeliveryCount: number
  /** a larger send body is refused with 403, as Azure refuses a message over the tier's limit */
  maxMessageBytes: number
  /** a message without its own `TimeToLive` lives this long (Azure's `DefaultMessageTimeToLive`) */
  defaultTimeToLiveMs: number
}

/** the key name the reference's test environment uses (`difi.move.nextmove.serviceBus.sasKeyName`) */
export const SANDBOX_KEY_NAME = 'MoveDPE-pilotPolicy'
/** the sandbox's key; a stand-in on 127.0.0.1 guards nothing, the check is there to catch wrong signing */
export const SANDBOX_KEY = 'c2FuZGJveC1zZXJ2aWNlLWJ1cy1rZXktbm90LXNlY3JldA=='

export const DEFAULT_SETTINGS: ServiceBusSettings = {
  keys: { [SANDBOX_KEY_NAME]: SANDBOX_KEY },
  lockDurationMs: 60_000,
  maxDeliveryCount: 10,
  // the reference's 2 MB of files grows to about 3.6 MB after its double base64
  maxMessageBytes: 4 * 1024 * 1024,
  defaultTimeToLiveMs: 14 * 24 * 60 * 60 * 1000,
}
