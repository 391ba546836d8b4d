// Videoswarm player: webtorrent in the page, streamed to <video> through our service worker.
//
// The order matters (see the field notes): register the worker, wait until its active
// worker is `activated`, only then `client.createServer`, then `file.streamTo(video)`.
import WebTorrent from './webtorrent.min.js'
import { PLAYABLE_EXTENSIONS, isPlayable, magnetProblem } from './format.js'

/** The site's root URL (this file lives in <root>/assets/). */
export const siteRoot = new URL('../', import.meta.url)

const NO_PEERS_AFTER_MS = 8000
/** How long the service worker may take to start and take this page over. */
const WORKER_TIMEOUT_MS = 15000

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

/**
 * Register the site's service worker and wait until it is activated and controls this page
 * (once per page). Gives up after WORKER_TIMEOUT_MS with a message saying what to do; a
 * later call tries again.
 */
export function serviceWorker () {
  if (!workerReady) {
    workerReady = withTimeout(startWorker(), WORKER_TIMEOUT_MS,
      `The service worker that streams videos did not start within ${WORKER_TIMEOUT_MS / 1000} s. ` +
      'Reload the page; if it happens again, this browser blocks service workers here ' +
      '(a private window or the site settings).')
    workerReady.catch(() => { workerReady = null })
  }
  return workerReady
}

async function startWorker () {
  const registration = await navigator.serviceWorker.register(new URL('sw.js', siteRoot), { scope: siteRoot.href })
  const worker = registration.active || registration.waiting || registration.installing
  if (worker.state !== 'activated') {
    await new Promise((resolve, reject) => {
      worker.addEventListener('statechange', () => {
        if (worker.state === 'activated') resolve()
        if (worker.state === 'redundant') reject(new Error('the service worker failed to install'))
      })
    })
  }
  await controlledBy(registration.active)
  return registration
}

/** `promise`, or a rejection with `message` once `ms` have passed. */
function withTimeout (promise, ms, message) {
  let timer
  const expired = new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error(message)), ms) })
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer))
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
    stats.textContent = `${Math.round(torrent.progress * 100)} % · ${torrent.numPeers} ` +
      `${torrent.numPeers === 1 ? 'peer' : 'peers'} · ↓ ${formatBytes(torrent.downloadSpeed)}/s · ` +
      `↑ ${formatBytes(torrent.uploadSpeed)}/s`
    if (state.status === 'starting' && torrent.numPeers === 0 && torrent.progress < 1 &&
        performance.now() - started > NO_PEERS_AFTER_MS) {
      say('starting', 'No peers yet: nobody is sharing this video right now. Keep this page open; ' +
        'it starts as soon as a peer appears.')
    }
  }, 500)
  torrent.once('close', () => clearInterval(timer))

  const onReady = () => {
    state.metadataAt = performance.now()
    const file = [...torrent.files].sort((a, b) => b.length - a.length).find(f => isPlayable(f.name))
    if (!file) {
      return say('error', `This torrent has no video a browser plays (${PLAYABLE_EXTENSIONS.join(', ')}).`)
    }
    file.streamTo(video)
    video.play().catch(() => { /* autoplay refused: the controls are there */ })
  }
  if (torrent.ready) onReady()
  else torrent.once('ready', onReady)
}
