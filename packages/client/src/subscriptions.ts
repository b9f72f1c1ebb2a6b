/** Webhook subscriptions (`/api/subscriptions`): every new status POSTed to a URL of yours. */
import { type Http, parseJson } from './http.js'
import type { NewSubscription, Page, Subscription } from './models/api.js'

const PAGE_SIZE = 500

export class Subscriptions {
  readonly #http: Http

  constructor(http: Http) {
    this.#http = http
  }

  /** All subscriptions, over as many pages as it takes. */
  async list(): Promise<Subscription[]> {
    const out: Subscription[] = []
    for (let page = 0; ; page++) {
      const result = await this.#http.json<Page<Subscription>>({
        method: 'GET',
        path: '/api/subscriptions',
        query: { page, size: PAGE_SIZE },
      })
      out.push(...result.content)
      if (result.last || result.content.length === 0) return out
    }
  }

  get(id: number): Promise<Subscription> {
    return this.#http.json({ method: 'GET', path: `/api/subscriptions/${id}` })
  }

  /**
   * Creates one; the server pings the endpoint first. A retried create that finds its twin (same name
   * and endpoint: the first attempt landed) answers with that one.
   */
  async create(subscription: NewSubscription): Promise<Subscription> {
    const answer = await this.#http.request({
      method: 'POST',
      path: '/api/subscriptions',
      json: subscription,
    })
    if (answer.retried && answer.text.includes('SubscriptionWithSameNameAndPushEndpointAlreadyExists')) {
      const twin = (await this.list()).find(
        (s) => s.name === subscription.name && s.pushEndpoint === subscription.pushEndpoint,
      )
      if (twin) return twin
    }
    return parseJson(this.#http.check(answer))
  }

  /** Changes the fields given (absent ones stay) and answers the subscription as it now is. */
  async update(id: number, changes: Partial<NewSubscription>): Promise<Subscription> {
    this.#http.check(
      await this.#http.request({ method: 'PUT', path: `/api/subscriptions/${id}`, json: changes }),
    )
    return this.get(id)
  }

  async delete(id: number): Promise<void> {
    const answer = await this.#http.request({ method: 'DELETE', path: `/api/subscriptions/${id}` })
    if (!(answer.retried && answer.status === 404)) this.#http.check(answer)
  }

  async deleteAll(): Promise<void> {
    this.#http.check(await this.#http.request({ method: 'DELETE', path: '/api/subscriptions' }))
  }
}
