// Live peer counts on the list: one WebSocket scrape per tracker, for every video listed,
// refreshed while the page is visible.
import { isWebSocket } from './format.js'

const SCRAPE_LIMIT = 200 // the tracker answers at most TRACKER_MAX_SCRAPE (256) hashes per scrape
const REFRESH_MS = 60000

const items = [...document.querySelectorAll('.vs-item[data-info-hash]')]
const counts = new Map() // info hash -> Map(tracker -> peers)

function binary (hex) {
  return hex.match(/../g).map(b => String.fromCharCode(parseInt(b, 16))).join('')
}

function hex (text) {
  return [...text].map(c => c.charCodeAt(0).toString(16).padStart(2, '0')).join('')
}

function show () {
  for (const item of items) {
    const seen = counts.get(item.dataset.infoHash)
    if (!seen || !seen.size) continue
    const peers = Math.max(...seen.values())
    const label = item.querySelector('.vs-peers')
    label.textContent = `· ${peers} ${peers === 1 ? 'peer' : 'peers'} now`
    label.hidden = false
  }
}

function scrape (tracker, hashes) {
  let socket
  try { socket = new WebSocket(tracker) } catch (err) { return }
  socket.onopen = () => {
    for (let i = 0; i < hashes.length; i += SCRAPE_LIMIT) {
      socket.send(JSON.stringify({ action: 'scrape', info_hash: hashes.slice(i, i + SCRAPE_LIMIT).map(binary) }))
    }
  }
  let answers = 0
  socket.onmessage = ({ data }) => {
    let reply
    try { reply = JSON.parse(data) } catch (err) { return }
    if (reply.action !== 'scrape' || !reply.files) return
    for (const [key, file] of Object.entries(reply.files)) {
      const infoHash = hex(key)
      if (!counts.has(infoHash)) counts.set(infoHash, new Map())
      counts.get(infoHash).set(tracker, (file.complete || 0) + (file.incomplete || 0))
    }
    show()
    if (++answers * SCRAPE_LIMIT >= hashes.length) socket.close()
  }
  socket.onerror = () => socket.close()
}

function refresh () {
  const byTracker = new Map()
  for (const item of items) {
    for (const tracker of JSON.parse(item.dataset.trackers || '[]')) {
      if (!isWebSocket(tracker)) continue
      if (!byTracker.has(tracker)) byTracker.set(tracker, [])
      byTracker.get(tracker).push(item.dataset.infoHash)
    }
  }
  for (const [tracker, hashes] of byTracker) scrape(tracker, hashes)
}

let timer = null

/** Scrape now and every REFRESH_MS while the page is visible; nothing while it is hidden. */
function schedule () {
  clearInterval(timer)
  timer = null
  if (document.hidden) return
  refresh()
  timer = setInterval(refresh, REFRESH_MS)
}

if (items.length && 'WebSocket' in window) {
  document.addEventListener('visibilitychange', schedule)
  schedule()
}
