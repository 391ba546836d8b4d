// Seed a video file from this browser tab to the site's trackers (or the visitor's).
import { isWebSocket } from './format.js'
import { client, browserProblem, embedSnippet, shareUrl, formatBytes } from './player.js'

const settings = JSON.parse(document.getElementById('videoswarm-config').textContent)
const form = document.querySelector('.vs-publish-form')
const error = document.querySelector('.vs-publish-error')
const result = document.querySelector('.vs-publish-result')

form.addEventListener('submit', async event => {
  event.preventDefault()
  const file = form.querySelector('.vs-publish-file').files[0]
  const trackers = form.querySelector('.vs-publish-trackers').value.split(/\s+/).filter(Boolean)
  const problem = browserProblem() ||
    (!file && 'Pick a video file first.') ||
    (!trackers.length && 'Give at least one tracker (wss://…).') ||
    (trackers.find(t => !isWebSocket(t)) && 'Browsers can only use WebSocket trackers (ws:// or wss://).')
  error.textContent = problem || ''
  error.hidden = !problem
  if (problem) return
  form.querySelector('button').disabled = true
  const wt = await client(settings.iceServers)
  wt.on('error', err => { error.textContent = String(err.message || err); error.hidden = false })
  wt.seed(file, { announce: trackers }, torrent => {
    result.hidden = false
    result.querySelector('.vs-magnet').value = torrent.magnetURI
    result.querySelector('.vs-share-link').value = shareUrl(torrent.magnetURI)
    result.querySelector('.vs-snippet').value = embedSnippet(torrent.magnetURI)
    window.videoswarm.published = torrent
    const stats = result.querySelector('.vs-publish-stats')
    const timer = setInterval(() => {
      stats.textContent = `Seeding: ${torrent.numPeers} ${torrent.numPeers === 1 ? 'peer' : 'peers'} · ` +
        `${formatBytes(torrent.uploaded)} uploaded · ↑ ${formatBytes(torrent.uploadSpeed)}/s`
    }, 500)
    torrent.once('close', () => clearInterval(timer))
  })
})
