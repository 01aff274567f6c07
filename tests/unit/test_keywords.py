"""The one keyword registry, read as elders text and speak (Mandarin and Sichuanese).

Each row is a real phrasing and what it must mean. Categories:
    emergency   keywords.is_emergency (anywhere in a text or a speech result)
    command     the whole text is a global command: stop / start / help / cancel / restart / menu / greeting
    person      a speech result asking for a person
    answer:K    a short answer to the last question of kind K (sms_answers.meaning)
    option:S    the option of the request flow's step S the words pick (None: none, or ambiguous)
"""
from __future__ import annotations

import pytest

from portal.channels.sms_answers import meaning
from portal.conversation import keywords
from portal.conversation.engine import match_option
from portal.conversation.flows import STEPS
from portal.conversation.understand import understand
from portal.i18n import force_locale

TABLE = """
emergency|救命|yes
emergency|救命啊！|yes
emergency|救救我|yes
emergency|快来救我|yes
emergency|我摔倒了起不来|yes
emergency|摔倒了|yes
emergency|我跌倒了|yes
emergency|起不来了|yes
emergency|爬不起来|yes
emergency|心口痛|yes
emergency|心口疼得很|yes
emergency|胸口痛|yes
emergency|我脑壳昏|yes
emergency|头晕得很|yes
emergency|我不舒服|yes
emergency|难受得很|yes
emergency|喘不过气|yes
emergency|着火了|yes
emergency|家里失火了|yes
emergency|闻到煤气味|yes
emergency|快来人|yes
emergency|来人啊|yes
emergency|帮帮我|yes
emergency|快来|yes
emergency|打120|yes
emergency|SOS|yes
emergency|sos!|yes
emergency|Help me|yes
emergency|急救|yes
emergency|晕倒了|yes
emergency|订餐|no
emergency|明天打扫卫生|no
emergency|我的编号是312045|no
emergency|打13912045678|no
emergency|你好|no
emergency|谢谢|no
emergency|1|no
emergency|help|no
command|STOP|stop
command|stop|stop
command|Stop!|stop
command|STOPALL|stop
command|unsubscribe|stop
command|CANCEL|stop
command|cancel|stop
command|END|stop
command|quit|stop
command|QUIT|stop
command|退订|stop
command|TD|stop
command|td|stop
command|START|start
command|unstop|start
command|订阅|start
command|恢复短信|start
command|恢复|start
command|帮助|help
command|HELP|help
command|?|help
command|？|help
command|怎么用|help
command|咋个用|help
command|看不懂|help
command|啥子|help
command|不会用|help
command|取消|cancel
command|取消。|cancel
command|不办了|cancel
command|不订了|cancel
command|退出|cancel
command|重来|restart
command|重新开始|restart
command|从头来|restart
command|start again|restart
command|Start again|restart
command|restart|restart
command|菜单|menu
command|服务|menu
command|订服务|menu
command|你好|greeting
command|您好|greeting
command|喂|greeting
command|在吗|greeting
command|订餐|None
command|救命|None
command|1|None
person|找人|yes
person|我要找人|yes
person|转人工|yes
person|人工|yes
person|真人|yes
person|找工作人员|yes
person|网格员|yes
person|社区|yes
person|我要去社区医院|no
person|社区卫生站|no
person|订餐|no
answer:confirm_visit|1|yes
answer:confirm_visit|一|yes
answer:confirm_visit|来了|yes
answer:confirm_visit|来过了|yes
answer:confirm_visit|来了的|yes
answer:confirm_visit|是的。|yes
answer:confirm_visit|对头|yes
answer:confirm_visit|嗯|yes
answer:confirm_visit|要得|yes
answer:confirm_visit|2|no
answer:confirm_visit|二|no
answer:confirm_visit|没来|no
answer:confirm_visit|没有来|no
answer:confirm_visit|莫来|no
answer:confirm_visit|没得人来|no
answer:confirm_visit|没有|no
answer:confirm_visit|不对|no
answer:confirm_visit|你好|None
answer:confirm_request|1|yes
answer:confirm_request|做完了|None
answer:confirm_request|来过了|yes
answer:confirm_request|没来|no
answer:refuse|2|no
answer:refuse|不要|no
answer:refuse|不需要|no
answer:refuse|莫要|no
answer:refuse|不消|no
answer:refuse|要不得|no
answer:refuse|不得行|no
answer:refuse|算了|no
answer:refuse|不用了|no
answer:refuse|不要了|no
answer:refuse|1|yes
answer:refuse|要|yes
answer:refuse|要得|yes
answer:refuse|要的|yes
answer:refuse|好嘛|yes
answer:refuse|可以|yes
answer:refuse|行|yes
answer:refuse|没问题|yes
answer:refuse|3|None
answer:rate|1|1
answer:rate|满意|1
answer:rate|巴适|1
answer:rate|安逸|1
answer:rate|很好|1
answer:rate|2|2
answer:rate|还可以|2
answer:rate|将就|2
answer:rate|一般|2
answer:rate|3|3
answer:rate|三|3
answer:rate|不满意|3
answer:rate|撇|3
answer:rate|不好|3
answer:rate|4|None
option:service|订餐|meal
option:service|定餐|meal
option:service|送餐|meal
option:service|我要吃饭|meal
option:service|送个盒饭|meal
option:service|夜饭|meal
option:service|打扫|cleaning
option:service|打扫卫生|cleaning
option:service|打整一下屋头|cleaning
option:service|帮我扫地拖地|cleaning
option:service|收拾屋子|cleaning
option:service|家政|cleaning
option:service|陪同|escort
option:service|陪我去卫生站|escort
option:service|陪我看医生|escort
option:service|去医院拿药|escort
option:service|陪我赶场|escort
option:service|洗澡|bathing
option:service|帮我擦身|bathing
option:service|擦澡|bathing
option:service|洗头|bathing
option:service|1|meal
option:service|４|bathing
option:service|不要吃饭|None
option:service|你好|None
option:meals|中午|lunch
option:meals|午饭|lunch
option:meals|中饭|lunch
option:meals|晚上|dinner
option:meals|夜饭|dinner
option:meals|晚饭|dinner
option:meals|中午和晚上|both
option:meals|午饭晚饭都要|both
option:meals|两顿都要|both
option:meals|3|both
option:return_trip|要|yes
option:return_trip|要得|yes
option:return_trip|需要|yes
option:return_trip|要送回家|yes
option:return_trip|不要|no
option:return_trip|不需要|no
option:return_trip|莫要|no
option:return_trip|不消|no
option:return_trip|不用|no
option:return_trip|不用送|no
option:return_trip|不用送回家|no
option:return_trip|只送过去|no
option:return_trip|1|yes
option:return_trip|2|no
option:destination|卫生站|clinic
option:destination|社区医院|clinic
option:destination|去医院|hospital
option:destination|赶场|market
option:destination|买菜|market
option:destination|银行取钱|bank
option:diet|少盐|low_salt
option:diet|清淡点|low_salt
option:diet|软一点|soft
option:diet|我有糖尿病|diabetic
option:diet|没得|none
option:diet|莫得|none
option:half_day|上午|morning
option:half_day|早上|morning
option:half_day|下午|afternoon
option:half_day|下半天|afternoon
option:date|今天|today
option:date|明天|tomorrow
option:date|后天|day_after
"""
ROWS = [tuple(line.split("|")) for line in TABLE.strip().splitlines()]


def test_the_table_holds_at_least_two_hundred_phrasings():
    assert len(ROWS) >= 200
    assert len({(category, phrase) for category, phrase, _ in ROWS}) == len(ROWS)


@pytest.mark.parametrize(("category", "phrase", "expected"), [row for row in ROWS if not row[0].startswith("option:")])
def test_phrasing_means(category, phrase, expected):
    if category == "emergency":
        assert keywords.is_emergency(phrase) is (expected == "yes")
    elif category == "command":
        assert str(understand(phrase, _today()).command) == expected
    elif category == "person":
        assert keywords.asks_for_person(phrase) is (expected == "yes")
    else:
        assert str(meaning(category.split(":")[1], phrase)) == expected


def test_phrasings_pick_the_options_of_each_step(app):
    wrong = []
    with app.test_request_context(), force_locale("zh_Hans"):
        for category, phrase, expected in ROWS:
            if category.startswith("option:"):
                picked = match_option(STEPS[category.split(":")[1]], phrase)
                if (picked.value if picked else "None") != expected:
                    wrong.append((category, phrase, expected, picked and picked.value))
    assert wrong == []


def _today():
    from datetime import date

    return date(2026, 12, 1)


def test_opt_out_words_are_exactly_twilios_and_never_conversation_words():
    # Twilio's default opt-out words (REVOKE and OPTOUT joined STOP ... QUIT), plus 退订 / TD
    assert keywords.PROVIDER_STOP == {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
    assert keywords.STOP == keywords.PROVIDER_STOP | {"退订", "td"}
    conversation = keywords.CANCEL | keywords.RESTART | keywords.YES | keywords.NO | keywords.MENU
    assert not keywords.STOP & conversation
    assert not keywords.STOP & keywords.START


def test_every_option_word_picks_its_own_option_and_its_negation_never_does(app):
    """No option word of any step is taken by another option; 不要 is never 要, 不用送 never 送."""
    with app.test_request_context(), force_locale("zh_Hans"):
        for step in STEPS.values():
            for option in step.options:
                for word in option.keywords:
                    picked = match_option(step, word)
                    assert picked is not None and picked.value == option.value, (step.name, word)
                    if word.startswith(keywords.NEGATIONS) or word.isascii():
                        continue  # "not no" is not a reply anybody sends
                    for negation in ("不", "不要", "莫", "没有"):
                        negated = match_option(step, negation + word)
                        # ...unless another of the option's own words is in the phrase (不要糖 is low sugar)
                        own_word = any(other != word and other in negation + word for other in option.keywords)
                        assert negated is None or negated.value != option.value or own_word, \
                            (step.name, negation + word, negated and negated.value)
