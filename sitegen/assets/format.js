// The content format's rules, as the player needs them: which URL schemes trackers and web
// seeds may use, which magnet links are usable and which files browsers play. The same rules
// as videoswarm_content/ (schemes.py, magnet.py, entry.py); tests/data/magnets.json holds both to them.
// No imports: the tests run this module in node.

export const TRACKER_SCHEMES = ['ws', 'wss', 'http', 'https']
export const WEBSOCKET_SCHEMES = ['ws', 'wss']
export const HTTP_SCHEMES = ['http', 'https']
export const PLAYABLE_EXTENSIONS = ['.mp4', '.m4v', '.webm', '.ogv']

const PARAM_SCHEMES = { tr: TRACKER_SCHEMES, ws: HTTP_SCHEMES, xs: HTTP_SCHEMES, as: HTTP_SCHEMES }

/** Whether `url` is absolute, with one of `schemes` and a host. */
export function hasScheme (url, schemes) {
  let parsed
  try { parsed = new URL(url) } catch (err) { return false }
  return schemes.includes(parsed.protocol.slice(0, -1).toLowerCase()) && parsed.hostname !== ''
}

/** Whether `url` is an address a browser can announce to. */
export function isWebSocket (url) {
  return hasScheme(url, WEBSOCKET_SCHEMES)
}

/** Whether a file in a torrent is one the browser plays. */
export function isPlayable (name) {
  const lower = String(name).toLowerCase()
  return PLAYABLE_EXTENSIONS.some(extension => lower.endsWith(extension))
}

/** Check a magnet link the way the build does; returns an error message or null. */
export function magnetProblem (text) {
  const uri = String(text || '').trim()
  if (!uri) return 'Paste a magnet link first.'
  if (!uri.startsWith('magnet:?')) return 'This is not a magnet link: it must start with "magnet:?".'
  if (/[\s<>"'`\\]/.test(uri)) return 'This magnet link contains spaces, quotes or angle brackets.'
  let params
  try {
    params = new URLSearchParams(uri.slice(8))
  } catch (err) {
    return 'This magnet link is not percent-encoded properly.'
  }
  const topics = params.getAll('xt')
  if (topics.length !== 1 || !/^urn:btih:([0-9a-f]{40}|[a-z2-7]{32})$/i.test(topics[0])) {
    return 'This magnet link needs exactly one BitTorrent info hash (xt=urn:btih: and 40 hex digits).'
  }
  for (const [key, schemes] of Object.entries(PARAM_SCHEMES)) {
    const bad = params.getAll(key).find(url => !hasScheme(url, schemes))
    if (bad !== undefined) return `This magnet link has an unusable ${key}= address (${bad.slice(0, 40)}).`
  }
  return null
}
