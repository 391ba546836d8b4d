// Videoswarm service worker: answers <video> requests for <scope>/webtorrent/… with bytes
// from the webtorrent client of the tab (or iframe) that made the request.
//
// It speaks the message protocol of webtorrent 2.x's BrowserServer (client.createServer),
// but asks only the requesting client. Asking every tab, as webtorrent's stock worker does,
// lets two tabs playing different videos answer each other's requests.

const STREAM = 'STREAM'
/** How long the page may take to answer a request's head (it answers at once unless it hangs). */
const PAGE_ANSWER_MS = 10000
let cancellable = false

self.addEventListener('install', () => self.skipWaiting())
self.addEventListener('activate', event => event.waitUntil(self.clients.claim()))
// A page that loaded while this worker was activating asks again (player.js, controlledBy).
self.addEventListener('message', event => {
  if (event.data === 'claim') event.waitUntil(self.clients.claim())
})

self.addEventListener('fetch', event => {
  const prefix = self.registration.scope + 'webtorrent/'
  const url = event.request.url
  if (!url.startsWith(prefix)) return
  if (url.startsWith(prefix + 'keepalive/')) {
    event.respondWith(new Response())
  } else if (url.startsWith(prefix + 'cancel/')) {
    // The page cancels this body once, to learn whether streams can be cancelled here.
    event.respondWith(new Response(new ReadableStream({ cancel () { cancellable = true } })))
  } else if (event.request.mode === 'navigate') {
    // Opened as a page (a bookmark, a pasted link): no player is behind it to answer.
    event.respondWith(notFound('This address streams a video to the page that plays it; open the video\'s page instead.'))
  } else {
    event.respondWith(relay(event))
  }
})

function notFound (text) {
  return new Response(text, { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
}

async function relay (event) {
  const client = event.clientId && await self.clients.get(event.clientId)
  if (!client) return notFound('No page is playing this torrent.')

  const { url, method, headers, destination } = event.request
  const { port1: port, port2 } = new MessageChannel()
  const head = await within(PAGE_ANSWER_MS, ask(port, () => client.postMessage({
    type: 'webtorrent',
    url,
    method,
    headers: Object.fromEntries(headers.entries()),
    scope: self.registration.scope,
    destination
  }, [port2])))
  if (head === null) {
    port.onmessage = null
    return new Response(`The page did not answer within ${PAGE_ANSWER_MS / 1000} s.`, { status: 504 })
  }

  if (head.body !== STREAM) {
    port.postMessage(false)
    port.onmessage = null
    return new Response(head.body, head)
  }
  let idle = null
  const stop = () => {
    clearTimeout(idle)
    port.postMessage(false)
    port.onmessage = null
  }
  return new Response(new ReadableStream({
    async pull (controller) {
      const chunk = await ask(port, () => port.postMessage(true))
      if (chunk) {
        controller.enqueue(chunk)
      } else {
        stop()
        controller.close()
      }
      if (!cancellable && destination !== 'document') {
        // Without cancel() the page would keep the port forever: let it go when idle.
        clearTimeout(idle)
        idle = setTimeout(stop, 5000)
      }
    },
    cancel: stop
  }), head)
}

// Send with `post` and resolve with the next message on `port`.
function ask (port, post) {
  return new Promise(resolve => {
    port.onmessage = ({ data }) => resolve(data)
    post()
  })
}

// `promise`'s value, or null if it has not settled within `ms`.
function within (ms, promise) {
  let timer
  const late = new Promise(resolve => { timer = setTimeout(resolve, ms, null) })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}
