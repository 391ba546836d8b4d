// Player-only page for iframes. The magnet comes from the URL fragment
// (embed/#magnet:?xt=…), which browsers never send to a server.
import { play } from './player.js'

const settings = JSON.parse(document.getElementById('videoswarm-config').textContent)
const magnet = decodeURIComponentSafe(location.hash.slice(1))
play(document.querySelector('.vs-player'), {
  magnet,
  announce: settings.trackers,
  iceServers: settings.iceServers
})
window.addEventListener('hashchange', () => location.reload())

function decodeURIComponentSafe (text) {
  // A pasted link may arrive percent-encoded as a whole ("magnet%3A%3Fxt…").
  if (!text.startsWith('magnet%3A')) return text
  try { return decodeURIComponent(text) } catch (err) { return text }
}
