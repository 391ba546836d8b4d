// Videoswarm player: HTTP first, peers after, and plain HTTP wherever peers cannot play.
//
// - With a web seed (the magnet's ws=, or the site's mirrors), the <video> plays it
//   directly: the first frame comes as fast as from any web server. Then (so that its
//   700 kB bundle does not compete with that frame) webtorrent joins the swarm; once a
//   peer is connected, a hidden <video> streams the torrent from our service worker,
//   seeks a little ahead and takes over on the same frame, so peers carry the rest of a
//   long view (p2p-media-loader's order, for a single file).
// - Without a web seed, the torrent streams through the service worker from the start.
//   The worker's registration, the .torrent's download and the tracker announce run side
//   by side, and the page preloads the bundle and the .torrent while it parses.
// - Without WebRTC or service workers (privacy settings, some in-app browsers), a web seed
//   plays as plain HTTP; without a web seed, the page says why it cannot play.
//
// Stream order (see the field notes): the worker must be `activated` and control the page
// before `client.createServer`, then `file.streamURL` is the <video>'s source.
import { HTTP_SCHEMES, PLAYABLE_EXTENSIONS, hasScheme, isPlayable, magnetProblem } from './format.js'

/** The site's root URL (this file lives in <root>/assets/). */
export const siteRoot = new URL('../', import.meta.url)

const NO_PEERS_AFTER_MS = 8000
/** How far ahead of the playing <video> the peer stream is prepared before it takes over. */
const HANDOVER_LEAD_S = 1.5
/** After the takeover, a stall this long adds the web seed to webtorrent as one more source. */
const STALL_MS = 2500
/** With a web seed, peers are joined once the first frame is shown, or after this long without one. */
const FIRST_FRAME_WAIT_MS = 3000
let webTorrentModule = null
/** How long the service worker may take to start and take this page over. */
const WORKER_TIMEOUT_MS = 15000
/** The <iframe> snippet that embeds `magnet` (or the player page `src`) from this site (built by the DOM, so it is escaped). */
export function embedSnippet (magnet, { width = 640, height = 360, src = null } = {}) {
  const frame = document.createElement('iframe')
  frame.src = src || embedUrl(magnet)
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
/** How long the STUN/TURN check may gather candidates before it reports the servers unreachable. */
const ICE_CHECK_MS = 8000

/**
 * One webtorrent client per page; it keeps seeding what it has while the page is open.
 * `webSeeds: false` keeps it off the web seeds: the <video> already reads them directly.
 * `iceServers` are the site's (docs/networks.md); an entry with a `credentials_url` gets
 * short-lived TURN credentials from the tracker first, and is left out if it does not answer.
 * window.videoswarm.ice says whether the servers answered (see checkIce).
 */
export async function client (iceServers = [], { webSeeds = true } = {}) {
  webTorrentModule ??= import('./webtorrent.min.js')
  const [{ default: WebTorrent }, servers] = await Promise.all([webTorrentModule, withCredentials(iceServers)])
  if (!sharedClient) {
    sharedClient = new WebTorrent({ tracker: { rtcConfig: { iceServers: servers } }, webSeeds })
    const ice = { servers: servers.length, skipped: iceServers.length - servers.length, reachable: null, types: [] }
    window.videoswarm = Object.assign(window.videoswarm || {}, { client: sharedClient, ice })
    checkIce(servers, ice)
  }
  return sharedClient
}

/** The site's ICE servers, each `credentials_url` swapped for the credentials it hands out. */
async function withCredentials (iceServers) {
  const servers = await Promise.all(iceServers.map(async ({ credentials_url: url, ...server }) => {
    if (!url) return server
    try {
      const res = await fetch(url, { credentials: 'omit' })
      if (!res.ok) return null
      const { username, credential } = await res.json()
      return { ...server, username, credential }
    } catch (err) {
      return null  // the page says so (ice.skipped): peers behind symmetric NATs cannot be reached
    }
  }))
  return servers.filter(Boolean)
}

/**
 * Gather candidates once, as a peer connection would, to learn whether the STUN/TURN servers
 * answer: an srflx or relay candidate means they do. Playback never waits for this; without
 * them, peers on the same network and the web seed still serve the video.
 */
async function checkIce (servers, ice) {
  if (!servers.length || typeof RTCPeerConnection === 'undefined') return
  const pc = new RTCPeerConnection({ iceServers: servers })
  try {
    pc.createDataChannel('check')
    const gathered = new Promise(resolve => {
      pc.addEventListener('icecandidate', ({ candidate }) => {
        if (!candidate) return resolve()
        if (candidate.type && !ice.types.includes(candidate.type)) ice.types.push(candidate.type)
        if (candidate.type === 'srflx' || candidate.type === 'relay') resolve()
      })
      setTimeout(resolve, ICE_CHECK_MS)
    })
    await pc.setLocalDescription(await pc.createOffer())
    await gathered
    ice.reachable = ice.types.includes('srflx') || ice.types.includes('relay')
  } catch (err) {
    ice.reachable = false
  } finally {
    pc.close()
  }
}

/**
 * How each connected peer is reached, from its RTCPeerConnection's selected candidate pair:
 * [{ peerId, local, remote (host, srflx, prflx or relay), downloaded, uploaded }].
 */
export async function peerRoutes (torrent) {
  const peers = [...torrent._peers.values()].filter(peer => peer.wire && peer.conn && peer.conn._pc)
  return Promise.all(peers.map(async peer => {
    const route = { peerId: peer.wire.peerId, local: null, remote: null, downloaded: peer.wire.downloaded, uploaded: peer.wire.uploaded }
    const stats = [...(await peer.conn._pc.getStats()).values()]
    const byId = Object.fromEntries(stats.map(item => [item.id, item]))
    const transport = stats.find(item => item.type === 'transport' && item.selectedCandidatePairId)
    const pair = transport ? byId[transport.selectedCandidatePairId]
      : stats.find(item => item.type === 'candidate-pair' && item.state === 'succeeded' && item.nominated)
    if (pair) {
      route.local = (byId[pair.localCandidateId] || {}).candidateType || null
      route.remote = (byId[pair.remoteCandidateId] || {}).candidateType || null
    }
    return route
  }))
}

/**
 * What this browser has, found by feature detection and never by user agent. Peers need
 * WebRTC and a service worker (the <video> streams the torrent from it); MediaSource is
 * not on that path, so iOS Safari, which has it only as ManagedMediaSource (17.1+), plays
 * from peers like the others. Both are reported for the support table (docs/site.md).
 * Measured in the suite (tests/test_engines.py): Firefox ESR 153 has all but
 * ManagedMediaSource; Debian's WebKitGTK 2.50 has no WebRTC, so it plays over HTTP.
 */
export function features () {
  return {
    webrtc: typeof RTCPeerConnection === 'function',
    serviceWorker: 'serviceWorker' in navigator && window.isSecureContext,
    mediaSource: typeof MediaSource === 'function',
    managedMediaSource: typeof ManagedMediaSource === 'function'
  }
}

/** What keeps a browser from fetching from peers, or null (the HTTP fallback plays regardless). */
export function browserProblem (has = features()) {
  if (!has.webrtc) {
    return 'This browser has no WebRTC, so it cannot fetch videos from other viewers. Try a current Firefox, Chrome or Safari.'
  }
  if (!has.serviceWorker) {
    return 'This browser cannot stream from peers here, since service workers need a secure (https) page and a browser ' +
      'that allows them (not every in-app browser does).'
  }
  return null
}

/** The HTTP URLs a <video> can play the file from: ws= names the file, or a folder holding it. */
export function webSeedUrls (magnet, extra = []) {
  const params = new URLSearchParams(String(magnet).trim().slice(8))
  const name = params.get('dn')
  const urls = [...extra, ...params.getAll('ws')].filter(url => hasScheme(url, HTTP_SCHEMES))
  return [...new Set(urls.map(url => url.endsWith('/') && name ? url + encodeURIComponent(name) : url))]
    .filter(url => !url.endsWith('/'))
}

const MODES = {
  http: 'Web seed (HTTP)',
  'http-only': 'Web seed (HTTP) only',
  p2p: 'Peer-to-peer'
}

/**
 * Play a torrent in `container` (an element with a <video>, a .vs-message and a .vs-stats).
 * opts: magnet (string), torrentUrl (optional .torrent next to the page), announce (tracker
 * URLs to add), webSeeds (HTTP URLs of the file besides the magnet's ws=), iceServers, poster.
 * Returns a state object, also exposed as window.videoswarm.player:
 * status, message, mode ('http', 'http-only', 'p2p'), features (what the path was chosen by), torrent, bytes ({ peers, http }) and
 * offload (the share from peers) for the offload figure, and where the time went, in ms since
 * navigation: addedAt (bundle and .torrent loaded, torrent added), workerAt (service worker in
 * control), peerAt (first peer connected), metadataAt (torrent ready), firstFrameAt.
 */
export function play (container, opts) {
  const state = {
    status: 'starting', message: '', mode: null, firstFrameAt: null, metadataAt: null, torrent: null,
    bytes: { peers: 0, http: 0 }, offload: null
  }
  window.videoswarm = Object.assign(window.videoswarm || {}, { player: state })
  const message = container.querySelector('.vs-message')
  const say = (status, text) => {
    state.status = status
    state.message = text
    container.dataset.state = status
    message.textContent = text
    message.hidden = !text
  }
  const magnetError = magnetProblem(opts.magnet)
  if (magnetError) {
    say('error', magnetError)
    return state
  }
  const player = new Player(container, opts, state, say)
  const webSeeds = webSeedUrls(opts.magnet, opts.webSeeds)
  state.features = features()
  const peerProblem = browserProblem(state.features)
  if (webSeeds.length) {
    player.playHttp(webSeeds, peerProblem ? 'http-only' : 'http')
    if (peerProblem) {
      player.explain(peerProblem.split(',')[0] + ': playing from the web seed.')
      return state
    }
  } else if (peerProblem) {
    say('error', peerProblem)
    return state
  } else {
    player.setMode('p2p')
    say('starting', 'Connecting to peers…')
  }
  // HTTP first: webtorrent's bundle (700 kB to compile) and the swarm wait for the web seed's first frame.
  const joined = webSeeds.length ? player.shown(FIRST_FRAME_WAIT_MS).then(() => player.startPeers(webSeeds))
    : player.startPeers(webSeeds)
  joined.catch(err => {
    if (state.mode === 'http' || state.mode === 'http-only') return player.setMode('http-only')
    say('error', `Cannot play: ${err.message || err}`)
  })
  return state
}

class Player {
  constructor (container, opts, state, say) {
    this.container = container
    this.video = container.querySelector('video')
    this.opts = opts
    this.state = state
    this.say = say
    this.figures = container.querySelector('.vs-figures') || container.querySelector('.vs-stats')
    this.modeLabel = container.querySelector('.vs-mode')
    this.length = null
    if (opts.poster && !this.video.poster) this.video.poster = opts.poster
    this.watch(this.video)
  }

  /** Events of a <video>: the first frame, playing, and errors (the web seed falls back to the next). */
  watch (video) {
    video.muted = this.video.muted
    video.playsInline = true
    const firstFrame = () => { this.state.firstFrameAt ??= performance.now() }
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(firstFrame)
    // WebKitGTK 2.50 has requestVideoFrameCallback but never calls it back (under Xvfb):
    // a clock that moves means a frame was shown.
    const moved = () => { if (video.currentTime > 0) { firstFrame(); video.removeEventListener('timeupdate', moved) } }
    video.addEventListener(video.requestVideoFrameCallback ? 'timeupdate' : 'playing', moved)
    video.addEventListener('playing', () => this.say('playing', this.note || ''), { once: true })
    video.addEventListener('error', () => { if (video === this.video) this.failed() })
  }

  /** The <video> cannot play its source: the next web seed, else peers, else say so. */
  failed () {
    if (this.state.mode !== 'p2p' && this.httpUrls && this.httpUrls.length) return this.nextWebSeed()
    if (this.state.mode === 'http') return this.say('starting', 'The web seed does not answer: waiting for peers…')
    this.say('error', this.state.mode === 'http-only'
      ? 'The web seed does not answer, and this browser cannot fetch from peers.'
      : 'This browser cannot play this video file.')
  }

  /** Once the <video> has shown a frame, failed, or `ms` passed. */
  shown (ms) {
    return new Promise(resolve => {
      if (this.state.firstFrameAt !== null) return resolve()
      setTimeout(resolve, ms)
      this.video.addEventListener('error', resolve, { once: true })
      const poll = setInterval(() => {
        if (this.state.firstFrameAt !== null) { clearInterval(poll); resolve() }
      }, 20)
      setTimeout(() => clearInterval(poll), ms)
    })
  }

  setMode (mode) {
    this.state.mode = mode
    this.container.dataset.mode = mode
    if (this.modeLabel) this.modeLabel.textContent = MODES[mode]
  }

  /** Why the player is on this path: said now, and still said once the video plays. */
  explain (text) {
    this.note = text
    this.say(this.state.status === 'playing' ? 'playing' : 'starting', text)
  }

  playHttp (urls, mode) {
    this.httpUrls = [...urls]
    this.setMode(mode)
    this.tick()
    if (this.video.currentSrc && urls.includes(this.video.currentSrc)) {
      this.httpUrls.splice(this.httpUrls.indexOf(this.video.currentSrc), 1)  // the page's HTML started it
      if (this.video.error) return this.failed()  // before this script ran
    } else {
      this.nextWebSeed()
    }
    this.video.play().catch(() => { /* autoplay refused: the controls are there */ })
  }

  nextWebSeed () {
    const url = this.httpUrls.shift()
    if (url) {
      this.video.src = url
      this.video.play().catch(() => {})
    }
  }

  /** Bytes the <video> read over HTTP, from the time it buffered: the browser does not count them for us. */
  httpVideoBytes () {
    const video = this.video
    if (!this.length || !(video.duration > 0)) return 0
    let seconds = 0
    for (let i = 0; i < video.buffered.length; i++) seconds += video.buffered.end(i) - video.buffered.start(i)
    return Math.round(this.length * Math.min(1, seconds / video.duration))
  }

  async startPeers (webSeeds) {
    const handover = webSeeds.length > 0
    const opts = this.opts
    // Side by side: the worker, the .torrent, the bundle. Each was waited for in turn before.
    const registration = serviceWorker()
    const torrentId = opts.torrentUrl ? fetchTorrent(opts.torrentUrl, opts.magnet) : opts.magnet.trim()
    const wt = await client(opts.iceServers, { webSeeds: !handover })
    const id = await torrentId
    this.state.addedAt = performance.now()
    const torrent = (await wt.get(id)) || wt.add(id, { announce: opts.announce || [], store: MemoryStore })
    this.state.torrent = torrent
    torrent.on('error', err => this.say('error', `This torrent cannot be played: ${err.message || err}`))
    const count = wire => wire.on('download', n => { this.state.bytes[wire.type === 'webSeed' ? 'http' : 'peers'] += n })
    torrent.on('wire', count)
    torrent.wires.forEach(count)
    torrent.once('wire', () => { this.state.peerAt = performance.now() })
    if (!wt._server) wt.createServer({ controller: await registration })
    this.state.workerAt = performance.now()
    this.started = performance.now()
    this.tick()
    torrent.once('close', () => clearInterval(this.timer))

    await new Promise(resolve => torrent.ready ? resolve() : torrent.once('ready', resolve))
    this.state.metadataAt = performance.now()
    const file = [...torrent.files].sort((a, b) => b.length - a.length).find(f => isPlayable(f.name))
    if (!file) {
      return this.say('error', `This torrent has no video a browser plays (${PLAYABLE_EXTENSIONS.join(', ')}).`)
    }
    this.length = file.length
    if (!handover) {
      this.setMode('p2p')
      this.video.src = file.streamURL
      this.video.play().catch(() => { /* autoplay refused: the controls are there */ })
      return
    }
    await new Promise(resolve => {
      const peered = () => torrent.wires.some(wire => wire.type !== 'webSeed')
      if (peered()) return resolve()
      torrent.on('wire', function check () { if (peered()) { torrent.removeListener('wire', check); resolve() } })
    })
    await this.takeOver(file.streamURL)
    this.fallBackOnStall(torrent, webSeeds)
  }

  /** Play `url` in a hidden twin of the <video>, ahead of it, and swap the two on the same frame. */
  async takeOver (url) {
    const old = this.video
    if (old.readyState < 2 || old.ended) {  // nothing shown yet (or the web seed failed): just switch
      this.state.bytes.http += this.httpVideoBytes()
      this.setMode('p2p')
      old.src = url
      old.play().catch(() => {})
      return
    }
    const twin = old.cloneNode(true)
    twin.removeAttribute('src')
    twin.removeAttribute('autoplay')
    twin.hidden = true
    twin.muted = true
    twin.preload = 'auto'
    old.after(twin)
    twin.src = url
    await event(twin, 'loadedmetadata')
    twin.currentTime = Math.min(old.currentTime + HANDOVER_LEAD_S, Math.max(0, twin.duration - 0.1))
    await event(twin, 'seeked')
    if (twin.readyState < 3) await event(twin, 'canplay')
    while (!old.paused && !old.ended && old.currentTime < twin.currentTime - 0.04) await nextFrame(old)
    if (Math.abs(old.currentTime - twin.currentTime) > 0.25) twin.currentTime = old.currentTime
    this.state.bytes.http += this.httpVideoBytes()
    twin.muted = old.muted
    twin.volume = old.volume
    twin.playbackRate = old.playbackRate
    for (let i = 0; i < old.textTracks.length && i < twin.textTracks.length; i++) twin.textTracks[i].mode = old.textTracks[i].mode
    const playing = !old.paused
    twin.hidden = false
    old.pause()
    old.remove()
    old.removeAttribute('src')
    old.load()
    this.video = twin
    this.watch(twin)
    this.setMode('p2p')
    if (playing) await twin.play().catch(() => {})
  }

  /** Peers carry the view; if they stall it, webtorrent gets the web seed as one more source. */
  fallBackOnStall (torrent, webSeeds) {
    let timer = null
    const added = new Set()
    const onWaiting = () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        for (const url of webSeeds) {
          if (!added.has(url) && !torrent.destroyed) { added.add(url); torrent.addWebSeed(url) }
        }
      }, STALL_MS)
    }
    this.video.addEventListener('waiting', onWaiting)
    this.video.addEventListener('playing', () => clearTimeout(timer))
  }

  /**
   * The figures line, twice a second: progress, peers (direct or through a TURN relay), the share
   * of bytes from peers, speed; and what is missing when the STUN/TURN servers do not answer.
   */
  tick () {
    if (this.timer) return
    this.timer = setInterval(() => {
      const torrent = this.state.torrent
      const http = this.state.bytes.http + (this.state.mode === 'p2p' ? 0 : this.httpVideoBytes())
      const total = this.state.bytes.peers + http
      this.state.offload = total ? this.state.bytes.peers / total : null
      const parts = []
      if (torrent) {
        peerRoutes(torrent).then(routes => { this.state.routes = routes }, () => {})
        const routes = this.state.routes || []
        const peers = torrent.wires.filter(wire => wire.type !== 'webSeed').length
        const relayed = routes.filter(route => route.local === 'relay' || route.remote === 'relay').length
        const how = peers ? ` (${peers - relayed} direct, ${relayed} relayed)` : ''
        parts.push(`${Math.round(torrent.progress * 100)} %`, `${peers} ${peers === 1 ? 'peer' : 'peers'}${how}`)
      }
      if (total) parts.push(`${Math.round(this.state.offload * 100)} % from peers, ${Math.round(http / total * 100)} % web seed`)
      if (torrent) parts.push(`↓ ${formatBytes(torrent.downloadSpeed)}/s · ↑ ${formatBytes(torrent.uploadSpeed)}/s`)
      const ice = window.videoswarm.ice
      if (ice && (ice.reachable === false || ice.skipped)) {
        parts.push('STUN/TURN servers unreachable: only direct peers and the web seed')
      }
      this.figures.textContent = parts.join(' · ')
      if (this.state.status === 'starting' && this.state.mode !== 'http' && torrent && torrent.numPeers === 0 &&
          torrent.progress < 1 && performance.now() - this.started > NO_PEERS_AFTER_MS) {
        this.say('starting', 'No peers yet: nobody is sharing this video right now. Keep this page open; ' +
          'it starts as soon as a peer appears.')
      }
    }, 500)
  }
}

/**
 * The pieces of a played torrent, in memory (abstract-chunk-store). webtorrent's browser
 * default keeps them in the origin's private file system and, before `ready`, reads every
 * piece back to verify it: 256 reads of an empty store on a first visit, all before the
 * first frame. In memory that check is immediate; Firefox and Safari get memory anyway.
 */
class MemoryStore {
  constructor (chunkLength) {
    this.chunkLength = Number(chunkLength)
    this.chunks = []
    this.closed = false
  }

  put (index, buf, cb = () => {}) {
    if (this.closed) return queueMicrotask(() => cb(new Error('Storage is closed')))
    this.chunks[index] = buf
    queueMicrotask(() => cb(null))
  }

  get (index, opts, cb = () => {}) {
    if (typeof opts === 'function') return this.get(index, null, opts)
    const buf = this.chunks[index]
    if (this.closed || !buf) return queueMicrotask(() => cb(new Error(this.closed ? 'Storage is closed' : 'Chunk not found')))
    const offset = (opts && opts.offset) || 0
    const length = (opts && opts.length) || buf.length - offset
    queueMicrotask(() => cb(null, offset === 0 && length === buf.length ? buf : buf.subarray(offset, offset + length)))
  }

  close (cb = () => {}) {
    this.closed = true
    queueMicrotask(() => cb(null))
  }

  destroy (cb = () => {}) {
    this.chunks = []
    this.close(cb)
  }
}

async function fetchTorrent (url, magnet) {
  try {
    const res = await fetch(url)
    if (res.ok) return new Uint8Array(await res.arrayBuffer())
  } catch (err) { /* fall back to the magnet */ }
  return magnet.trim()
}

function event (target, name) {
  return new Promise(resolve => target.addEventListener(name, resolve, { once: true }))
}

/** The <video>'s next frame, or 100 ms if it shows none (paused meanwhile). */
function nextFrame (video) {
  return new Promise(resolve => {
    setTimeout(resolve, 100)
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(() => resolve())
  })
}
