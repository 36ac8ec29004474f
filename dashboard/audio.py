"""The live coach's sound in the browser: Web Audio tones and speechSynthesis words.

The cues come from ``sensor.coach`` (computed on the stream by the live runner). Each
fragment rerun renders one small HTML component holding the latest cues; the script plays
those newer than the last one played in this browser tab (remembered on the parent window,
so a re-rendered component never repeats a cue). Tones and speech use the parent page's
``AudioContext`` and ``speechSynthesis``: the page has had the user's click on Start, which
browsers ask for before they make sound.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import streamlit as st
import streamlit.components.v1 as components

from sensor.coach import Cue

SEND = 24  # the newest cues sent with every render (at 50x a render brings a handful)
# tone name -> (Hz, seconds): high and short for a rep, a middle mark, a low calm tone
TONES = {"rep": (880, 0.12), "mark": (660, 0.22), "done": (523, 0.5), "calm": (330, 0.7)}

_SCRIPT = """<script>
(function () {
  const cues = __CUES__, volume = __VOLUME__, sid = __SID__, TONES = __TONES__;
  let W = window;
  try { if (window.parent && window.parent.document) W = window.parent; } catch (e) { W = window; }
  W.__htLastCue = W.__htLastCue || {};
  W.__htPlayed = W.__htPlayed || [];
  const last = W.__htLastCue[sid] || 0;
  const fresh = cues.filter(c => c.seq > last);
  if (!fresh.length) return;
  W.__htLastCue[sid] = fresh[fresh.length - 1].seq;
  const AC = W.AudioContext || W.webkitAudioContext;
  let ctx = W.__htAudio;
  if (!ctx && AC) { try { ctx = W.__htAudio = new AC(); } catch (e) { ctx = null; } }
  if (ctx && ctx.state === "suspended") { ctx.resume().catch(() => {}); }
  let at = ctx ? ctx.currentTime + 0.02 : 0;
  for (const c of fresh) {
    W.__htPlayed.push({seq: c.seq, kind: c.kind, at_s: c.at_s, say: c.say, tone: c.tone});
    if (c.tone && ctx && TONES[c.tone]) {
      const [hz, dur] = TONES[c.tone];
      const osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = hz;
      gain.gain.setValueAtTime(Math.max(0.0001, 0.5 * volume), at);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + dur);
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(at); osc.stop(at + dur);
      at += dur + 0.08;  // a burst of cues (fast replay) plays one after another
    }
    if (c.say && W.speechSynthesis && W.SpeechSynthesisUtterance) {
      const u = new W.SpeechSynthesisUtterance(c.say);
      u.volume = volume; u.rate = 1.0;
      W.speechSynthesis.speak(u);  // queued: words never talk over each other
    }
  }
})();
</script>"""


def render(cues: Sequence[Cue], volume: float, session_id: str) -> None:
    """Play the cues not played yet in this tab (an invisible component)."""
    recent = [{"seq": c.seq, "kind": c.kind, "at_s": c.at_s, "say": c.say, "tone": c.tone} for c in cues[-SEND:]]
    html = (
        _SCRIPT.replace("__CUES__", json.dumps(recent))
        .replace("__VOLUME__", f"{min(1.0, max(0.0, volume)):.2f}")
        .replace("__SID__", json.dumps(session_id))
        .replace("__TONES__", json.dumps(TONES))
    )
    # Same cues, same HTML: the frame is not reloaded, nothing replays.
    components.html(html, height=0)


def test_button(volume: float) -> None:
    """Settings: play a tone and a word so the user can set the volume."""
    if st.button("Test the sound", icon=":material/volume_up:", key="audio_test"):
        n = st.session_state.get("audio_test_n", 0) + 1
        st.session_state["audio_test_n"] = n
        render([Cue(1, "test", 0.0, "Sound check.", "rep")], volume, f"test-{n}")
