"""Speaking and listening in TwiML: every <Say> names a voice and a language that go together, every
<Gather> listens in a speech language Twilio accepts.

Without a voice Twilio speaks with the account's default (on a new account the basic "man" voice,
which has no Mandarin), and an invalid voice/language pair fails the <Say>: the call is silent.
The voice per locale is a setting (LINLI_TTS_VOICE_ZH_HANS, LINLI_TTS_VOICE_EN), checked against
the pairs below, which are from Twilio's text-to-speech and speech-recognition tables.
"""
from __future__ import annotations

from twilio.twiml.voice_response import Gather

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
    """Append a <Say> with the locale's voice and its language to a response or a <Gather>."""
    voice, language = voice_for(locale)
    parent.say(text, voice=voice, language=language)


def gather(locale: str | None, **attributes) -> Gather:
    """A <Gather> whose speech recognition language (when it listens for speech) fits the locale."""
    if "speech" in attributes.get("input", "dtmf"):
        attributes.setdefault("language", SPEECH_LANGUAGES[_locale(locale)])
    return Gather(**attributes)
