// Videoswarm player: webtorrent in the page, streamed to <video> through our service worker.
//
// The order matters (see the field notes): register the worker, wait until its active
// worker is `activated`, only then `client.createServer`, then `file.streamTo(video)`.
import WebTorrent from './webtorrent.min.js'

/** The site's root URL (this file lives in <root>/assets/). */
export const siteRoot = new URL('../', import.meta.url)

const NO_PEERS_AFTER_MS = 8000
const VIDEO_FILE = /\.(mp4|m4v|webm|mkv|mov|ogv)$/i

const URL_PARAMS = { tr: /^(wss?|https?):\/\//i, ws: /^https?:\/\//i, xs: /^https?:\/\//i, as: /^https?:\/\//i }

/** Check a magnet link the way the build does (videoswarm_content/magnet.py); returns an error message or null. */
export function magnetProblem (text) {
  const uri = String(text || '').trim()
  if (!uri) return 'Paste a magnet link first.'
  if (!uri.startsWith('magnet:?')) return 'This is not a magnet link: it must start with "magnet:?".'
  if (/[\s<>"'`\\]/.test(uri)) return 'This magnet link contains spaces, quotes or angle brackets.'
  const params = new URLSearchParams(uri.slice(8))
  const topics = params.getAll('xt')
  if (topics.length !== 1 || !/^urn:btih:([0-9a-f]{40}|[a-z2-7]{32})$/i.test(topics[0])) {
    return 'This magnet link needs exactly one BitTorrent info hash (xt=urn:btih: and 40 hex digits).'
  }
  for (const [key, scheme] of Object.entries(URL_PARAMS)) {
    const bad = params.getAll(key).find(url => !scheme.test(url))
    if (bad !== undefined) return `This magnet link has an unusable ${key}= address (${bad.slice(0, 40)}).`
  }
  return null
}

/** The <iframe> snippet that embeds `magnet` from this site (built by the DOM, so it is escaped). */
export function embedSnippet (magnet, { width = 640, height = 360 } = {}) {
  const frame = document.createElement('iframe')
  frame.src = embedUrl(magnet)
  frame.width = String(width)
  frame.height = String(height)
  frame.setAttribute('allow', 'autoplay; fullscreen')
  frame.setAttribute('allowfullscreen', '')
  frame.setAttribute('frameborder', '0')
  return frame.outerHTML
}

export function embedUrl (magnet) {
  return new URL('embed/', siteRoot).href + '#' + String(magnet).trim()
}

export function shareUrl (magnet) {
  return new URL('share/', siteRoot).href + '#' + String(magnet).trim()
}

export function formatBytes (n) {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let i = 0
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++ }
  return `${n.toFixed(i && n < 10 ? 1 : 0)} ${units[i]}`
}

let workerReady = null

/** Register the site's service worker and wait until it is activated (once per page). */
export function serviceWorker () {
  if (!workerReady) {
    workerReady = (async () => {
      const registration = await navigator.serviceWorker.register(new URL('sw.js', siteRoot), { scope: siteRoot.href })
      const worker = registration.active || registration.waiting || registration.installing
      if (worker.state !== 'activated') {
        await new Promise(resolve => {
          worker.addEventListener('statechange', () => { if (worker.state === 'activated') resolve() })
        })
      }
      await controlledBy(registration.active)
      return registration
    })()
  }
  return workerReady
}

/**
 * Until the worker controls this page: its <video> requests must reach the worker. The
 * worker claims open pages when it activates, but a page still loading at that moment
 * (a second tab opened during the first visit) is missed, so it asks to be claimed.
 */
async function controlledBy (worker) {
  const sw = navigator.serviceWorker
  if (sw.controller) return
  const claimed = new Promise(resolve => sw.addEventListener('controllerchange', resolve, { once: true }))
  if (sw.controller) return
  worker.postMessage('claim')
  await claimed
}

let sharedClient = null

/** One webtorrent client per page; it keeps seeding what it has while the page is open. */
export function client (iceServers = []) {
  if (!sharedClient) {
    sharedClient = new WebTorrent({ tracker: { rtcConfig: { iceServers } } })
    window.videoswarm = Object.assign(window.videoswarm || {}, { client: sharedClient })
  }
  return sharedClient
}

/** What keeps a browser from playing, or null. */
export function browserProblem () {
  if (typeof RTCPeerConnection === 'undefined') {
    return 'This browser has no WebRTC, so it cannot fetch videos from other viewers. Try a current Firefox, Chrome or Safari.'
  }
  if (!('serviceWorker' in navigator)) {
    return 'This browser cannot stream here: service workers need a secure (https) page and a browser that allows them.'
  }
  return null
}

/**
 * Play a torrent in `container` (an element with a <video>, a .vs-message and a .vs-stats).
 * opts: magnet (string), torrentUrl (optional .torrent next to the page), announce (tracker
 * URLs to add), webSeeds (ws= URLs), iceServers, poster.
 * Returns a state object, also exposed as window.videoswarm.player.
 */
export function play (container, opts) {
  const video = container.querySelector('video')
  const message = container.querySelector('.vs-message')
  const stats = container.querySelector('.vs-stats')
  const state = { status: 'starting', message: '', firstFrameAt: null, metadataAt: null, torrent: null }
  window.videoswarm = Object.assign(window.videoswarm || {}, { player: state })

  const say = (status, text) => {
    state.status = status
    state.message = text
    container.dataset.state = status
    message.textContent = text
    message.hidden = !text
  }

  const problem = browserProblem() || magnetProblem(opts.magnet)
  if (problem) {
    say('error', problem)
    return state
  }
  if (opts.poster) video.poster = opts.poster
  video.muted = true
  video.playsInline = true
  video.autoplay = true
  if (video.requestVideoFrameCallback) {
    video.requestVideoFrameCallback(() => { state.firstFrameAt = performance.now() })
  } else {
    video.addEventListener('playing', () => { state.firstFrameAt = performance.now() }, { once: true })
  }
  video.addEventListener('playing', () => say('playing', ''), { once: true })
  video.addEventListener('error', () => say('error', 'This browser cannot play this video file.'))

  say('starting', 'Connecting to peers…')
  start(opts, state, say, video, stats).catch(err => say('error', `Cannot play: ${err.message || err}`))
  return state
}

async function start (opts, state, say, video, stats) {
  const registration = await serviceWorker()
  const wt = client(opts.iceServers)
  if (!wt._server) wt.createServer({ controller: registration })

  let torrentId = opts.magnet.trim()
  if (opts.torrentUrl) {
    try {
      const res = await fetch(opts.torrentUrl)
      if (res.ok) torrentId = new Uint8Array(await res.arrayBuffer())
    } catch (err) { /* fall back to the magnet */ }
  }
  const existing = await wt.get(torrentId)
  const torrent = existing || wt.add(torrentId, {
    announce: opts.announce || [],
    urlList: opts.webSeeds || []
  })
  state.torrent = torrent
  torrent.on('error', err => say('error', `This torrent cannot be played: ${err.message || err}`))

  const started = performance.now()
  const timer = setInterval(() => {
    if (torrent.destroyed) return clearInterval(timer)
    stats.textContent = `${Math.round(torrent.progress * 100)} % · ${torrent.numPeers} ` +
      `${torrent.numPeers === 1 ? 'peer' : 'peers'} · ↓ ${formatBytes(torrent.downloadSpeed)}/s · ` +
      `↑ ${formatBytes(torrent.uploadSpeed)}/s`
    if (state.status === 'starting' && torrent.numPeers === 0 && torrent.progress < 1 &&
        performance.now() - started > NO_PEERS_AFTER_MS) {
      say('starting', 'No peers yet: nobody is sharing this video right now. Keep this page open; ' +
        'it starts as soon as a peer appears.')
    }
  }, 500)

  const onReady = () => {
    state.metadataAt = performance.now()
    const files = [...torrent.files].sort((a, b) => b.length - a.length)
    const file = files.find(f => VIDEO_FILE.test(f.name)) || files[0]
    if (!file) return say('error', 'This torrent has no files.')
    file.streamTo(video)
    video.play().catch(() => { /* autoplay refused: the controls are there */ })
  }
  if (torrent.ready) onReady()
  else torrent.once('ready', onReady)
}
