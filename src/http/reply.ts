import type { FastifyReply } from 'fastify'

/**
 * JSON the way the reference sends it: `application/json`, no charset unless the endpoint declares
 * one. (Sent as bytes: Fastify would otherwise append `; charset=utf-8` to every JSON type.)
 */
export function sendJson(
  reply: FastifyReply,
  body: unknown,
  contentType = 'application/json',
  status = 200,
): FastifyReply {
  return reply
    .code(status)
    .header('content-type', contentType)
    .send(Buffer.from(JSON.stringify(body)))
}

/** 200 with an empty body, as the reference's void endpoints answer. */
export function sendEmpty(reply: FastifyReply): FastifyReply {
  return reply.code(200).send()
}
