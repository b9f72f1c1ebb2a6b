import type { FastifyReply } from 'fastify'

/** JSON the way the reference sends it: `application/json`, no charset unless the endpoint declares one. */
export function sendJson(reply: FastifyReply, body: unknown, contentType = 'application/json'): FastifyReply {
  return reply.code(200).type(contentType).send(JSON.stringify(body))
}

/** 200 with an empty body, as the reference's void endpoints answer. */
export function sendEmpty(reply: FastifyReply): FastifyReply {
  return reply.code(200).send()
}
