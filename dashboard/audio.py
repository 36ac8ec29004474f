"""The live coach's sound in the browser: Web Audio tones and speechSynthesis words.

The cues come from ``sensor.coach`` (computed on the stream by the live runner). Each
fragment rerun renders a small script (``st.html`` with its JavaScript allowed) holding the
latest cues; it plays those newer than the last one played in this browser tab (remembered
on the window, so a re-rendered script never repeats a cue). Tones and speech use the
page's ``AudioContext`` and ``speechSynthesis``: the page has had the user's click on
Start, which browsers ask for before they make sound.

A cue that could only start more than ``MAX_LAG_S`` after it arrived is dropped, not
queued: at 10-50× a replay brings cues faster than words can be said (87 spoken cues
queued in 20 s before), and a cue heard late describes a moment long gone. Tones are
judged on the audio clock (where the last scheduled tone ends); words on how long the
words already queued take to say, estimated from their length (``speech_s``), since a
browser without a voice reports nothing useful about its queue. The cues that say where
the user is (``KEY_CUES``: a set done, a hold's target, the rest over) are not dropped for
lesser words: the late queue is cancelled and they are said at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import streamlit as st

from sensor.coach import Cue

SEND = 24  # the newest cues sent with every render (at 50x a render brings a handful)
# tone name -> (Hz, seconds): high and short for a rep, a middle mark, a low calm tone
TONES = {"rep": (880, 0.12), "mark": (660, 0.22), "done": (523, 0.5), "calm": (330, 0.7)}
TONE_GAP_S = 0.08  # silence between two tones of a burst
MAX_LAG_S = 1.0  # a cue that would start later than this after it arrived is dropped
KEY_CUES = ("set_done", "hold_target", "rest_over")  # said even when the words are late (the queue is cut)
# Words take about this long at the browser's rate 1.0 (about 180 words a minute).
SPEECH_BASE_S, SPEECH_PER_CHAR_S = 0.3, 0.065


def speech_s(text: str) -> float:
    """About how long ``text`` takes to say (the script's estimate)."""
    return SPEECH_BASE_S + SPEECH_PER_CHAR_S * len(text)


_SCRIPT = """<script>
(function () {
  const cues = __CUES__, volume = __VOLUME__, sid = __SID__, TONES = __TONES__;
  const MAX_LAG = __MAX_LAG__, GAP = __GAP__, BASE = __BASE__, PER_CHAR = __PER_CHAR__, KEY = __KEY__;
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
  for (const c of fresh) {
    const entry = {seq: c.seq, kind: c.kind, at_s: c.at_s, say: c.say, tone: c.tone, toned: false, said: false, dropped: false};
    W.__htPlayed.push(entry);
    if (c.tone && ctx && TONES[c.tone]) {
      const [hz, dur] = TONES[c.tone];
      const now = ctx.currentTime, at = Math.max(now + 0.02, W.__htToneEnd || 0);
      if (at - now <= MAX_LAG) {
        const osc = ctx.createOscillator(), gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = hz;
        gain.gain.setValueAtTime(Math.max(0.0001, 0.5 * volume), at);
        gain.gain.exponentialRampToValueAtTime(0.0001, at + dur);
        osc.connect(gain); gain.connect(ctx.destination);
        osc.start(at); osc.stop(at + dur);
        W.__htToneEnd = at + dur + GAP;  // a burst plays one tone after another
        entry.toned = true;
      } else { entry.dropped = true; }
    }
    if (c.say && W.speechSynthesis && W.SpeechSynthesisUtterance) {
      const now = performance.now() / 1000;
      let at = Math.max(now, W.__htSpeechEnd || 0);
      if (at - now > MAX_LAG && KEY.includes(c.kind)) {
        W.speechSynthesis.cancel();  // what is queued is late anyway: this one matters more
        at = now;
      }
      if (at - now <= MAX_LAG) {
        const u = new W.SpeechSynthesisUtterance(c.say);
        u.volume = volume; u.rate = 1.0;
        W.speechSynthesis.speak(u);  // queued behind at most MAX_LAG of words
        W.__htSpeechEnd = at + BASE + PER_CHAR * c.say.length;
        entry.said = true;
      } else { entry.dropped = true; }
    }
  }
})();
</script>"""


def script(cues: Sequence[Cue], volume: float, session_id: str) -> str:
    """The HTML that plays the newest of ``cues`` not played yet in this tab."""
    recent = [{"seq": c.seq, "kind": c.kind, "at_s": c.at_s, "say": c.say, "tone": c.tone} for c in cues[-SEND:]]
    return (
        _SCRIPT.replace("__CUES__", json.dumps(recent))
        .replace("__VOLUME__", f"{min(1.0, max(0.0, volume)):.2f}")
        .replace("__SID__", json.dumps(session_id))
        .replace("__TONES__", json.dumps(TONES))
        .replace("__MAX_LAG__", repr(MAX_LAG_S))
        .replace("__GAP__", repr(TONE_GAP_S))
        .replace("__BASE__", repr(SPEECH_BASE_S))
        .replace("__PER_CHAR__", repr(SPEECH_PER_CHAR_S))
        .replace("__KEY__", json.dumps(KEY_CUES))
    )


def render(cues: Sequence[Cue], volume: float, session_id: str) -> None:
    """Play the cues not played yet in this tab (a script in the page, nothing shown)."""
    # Same cues, same HTML: the element is not redrawn, nothing replays.
    st.html(script(cues, volume, session_id), unsafe_allow_javascript=True)


def test_button(volume: float) -> None:
    """Settings: play a tone and a word so the user can set the volume."""
    if st.button("Test the sound", icon=":material/volume_up:", key="audio_test"):
        n = st.session_state.get("audio_test_n", 0) + 1
        st.session_state["audio_test_n"] = n
        render([Cue(1, "test", 0.0, "Sound check.", "rep")], volume, f"test-{n}")
