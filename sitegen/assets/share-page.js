// Paste any magnet: play it here and get the <iframe> snippet for it.
// The magnet is only ever put into the page as text or as an attribute value via the DOM.
import { magnetProblem } from './format.js'
import { play, embedSnippet, shareUrl } from './player.js'

const settings = JSON.parse(document.getElementById('videoswarm-config').textContent)
const form = document.querySelector('.vs-share-form')
const input = document.querySelector('.vs-share-magnet')
const error = document.querySelector('.vs-share-error')
const result = document.querySelector('.vs-share-result')
const snippet = result.querySelector('.vs-snippet')
let playing = false

form.addEventListener('submit', event => {
  event.preventDefault()
  share(input.value)
})
result.querySelector('.vs-copy').addEventListener('click', async () => {
  snippet.select()
  try { await navigator.clipboard.writeText(snippet.value) } catch (err) { /* selected for a manual copy */ }
})
if (location.hash.length > 1) {
  input.value = location.hash.slice(1)
  share(input.value)
}

function share (text) {
  const magnet = text.trim()
  const problem = magnetProblem(magnet)
  error.textContent = problem || ''
  error.hidden = !problem
  if (problem) return
  if (playing) {
    // One page plays one video: start over for another magnet.
    location.hash = magnet
    location.reload()
    return
  }
  playing = true
  result.hidden = false
  snippet.value = embedSnippet(magnet)
  result.querySelector('.vs-share-link').href = shareUrl(magnet)
  play(result.querySelector('.vs-player'), { magnet, announce: settings.trackers, iceServers: settings.iceServers })
}
