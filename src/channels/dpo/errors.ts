// DPO's errors are those of every Altinn call (src/channels/altinn-errors.ts).
export {
  BrokerError,
  type BrokerErrorOptions,
  httpError,
  isRetryableStatus,
  MAX_PROBLEM_BYTES,
  networkError,
  type ProblemDetails,
  parseProblem,
} from '../altinn-errors.js'
