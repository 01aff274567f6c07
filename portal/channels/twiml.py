"""Speaking and listening in TwiML: every <Say> names a voice and a language that go together, every
<Gather> listens in a speech language Twilio accepts.

Without a voice Twilio speaks with the account's default (on a new account the basic "man" voice,
which has no Mandarin), and an invalid voice/language pair fails the <Say>: the call is silent.
The voice per locale is a setting (LINLI_TTS_VOICE_ZH_HANS, LINLI_TTS_VOICE_EN), checked against
the pairs below, which are from Twilio's text-to-speech and speech-recognition tables.
"""
from __future__ import annotations

import re

from twilio.twiml.voice_response import Gather, Say

# Voices Twilio offers, with the one language each speaks (Twilio's TTS table, Mandarin and English).
VOICE_LANGUAGES: dict[str, str] = {
    "Polly.Zhiyu": "cmn-CN",
    "Polly.Zhiyu-Neural": "cmn-CN",
    **{f"Google.cmn-CN-{kind}-{letter}": "cmn-CN" for kind in ("Standard", "Wavenet") for letter in "ABCD"},
    "Polly.Joanna": "en-US",
    "Polly.Joanna-Neural": "en-US",
    "Polly.Matthew": "en-US",
    "Polly.Matthew-Neural": "en-US",
    **{f"Google.en-US-{kind}-{letter}": "en-US" for kind in ("Standard", "Wavenet", "Neural2") for letter in "ACDF"},
}
# <Gather> speech recognition languages (Twilio's speechLanguage table uses BCP-47 tags like these).
SPEECH_LANGUAGES: dict[str, str] = {"zh_Hans": "cmn-Hans-CN", "en": "en-US"}
DEFAULT_VOICES: dict[str, str] = {"zh_Hans": "Polly.Zhiyu", "en": "Polly.Joanna"}

_voices: dict[str, str] = dict(DEFAULT_VOICES)


class VoiceConfigError(RuntimeError):
    pass


def configure_voices(config) -> None:
    """Take the voice per locale from the settings (create_app); refuse a voice Twilio does not pair."""
    chosen = {"zh_Hans": config.get("LINLI_TTS_VOICE_ZH_HANS") or DEFAULT_VOICES["zh_Hans"],
              "en": config.get("LINLI_TTS_VOICE_EN") or DEFAULT_VOICES["en"]}
    for locale, voice in chosen.items():
        if voice not in VOICE_LANGUAGES:
            raise VoiceConfigError(f"text-to-speech voice {voice!r} for {locale} is not one Linli knows a language for; "
                                   f"choose one of: {', '.join(sorted(VOICE_LANGUAGES))}")
        if VOICE_LANGUAGES[voice] != ("en-US" if locale == "en" else "cmn-CN"):
            raise VoiceConfigError(f"text-to-speech voice {voice!r} does not speak the language of {locale}")
    _voices.update(chosen)


def _locale(locale: str | None) -> str:
    return "en" if locale == "en" else "zh_Hans"


def voice_for(locale: str | None) -> tuple[str, str]:
    """(voice, language) for a person's locale; Mandarin unless they chose English."""
    voice = _voices[_locale(locale)]
    return voice, VOICE_LANGUAGES[voice]


def say(parent, text: str, locale: str | None) -> None:
    """Append a <Say> with the locale's voice and its language to a response or a <Gather>, reading
    numbers as a listener needs them (see `spoken`)."""
    voice, language = voice_for(locale)
    parent.append(spoken(text, language, voice))


# A run of 3+ digits (a reference, a phone number, 120) is read digit by digit; "-" in a number is a pause.
_DIGIT_RUN = re.compile(r"\d{3,}(?:[-－]\d+)*")
_CLOCK = re.compile(r"(?<!\d)([01]?\d|2[0-3]):([0-5]\d)(?!\d)")
_YEAR = re.compile(r"\d{4}年")


def _spoken_clock(found: re.Match) -> str:
    hour, minute = int(found.group(1)), int(found.group(2))
    part = "上午" if hour < 12 else ("中午" if hour < 13 else "下午" if hour < 18 else "晚上")
    shown = hour if hour <= 12 else hour - 12
    rest = {0: "", 30: "半"}.get(minute, f"{minute}分")
    return f"{part}{shown}点{rest}"


def spoken(text: str, language: str, voice: str | None = None) -> Say:
    """A <Say> that reads numbers as a listener needs them: references, phone numbers and 120 digit by
    digit (SSML say-as), in Mandarin times as 上午9点半 and dates without the year."""
    if language.startswith("cmn"):
        text = _CLOCK.sub(_spoken_clock, _YEAR.sub("", text))
    say = Say(voice=voice, language=language) if voice else Say(language=language)
    position = 0
    for run in _DIGIT_RUN.finditer(text):
        if run.start() > position:
            say.append(text[position:run.start()])
        for index, part in enumerate(re.split(r"[-－]", run.group())):
            if index:
                say.append("，")
            say.say_as(part, interpret_as="digits")
        position = run.end()
    if position < len(text) or position == 0:
        say.append(text[position:])
    return say


def gather(locale: str | None, **attributes) -> Gather:
    """A <Gather> whose speech recognition language (when it listens for speech) fits the locale."""
    if "speech" in attributes.get("input", "dtmf"):
        attributes.setdefault("language", SPEECH_LANGUAGES[_locale(locale)])
    return Gather(**attributes)
