"""Every word Linli understands outside a question's own options, in one place.

Texts, speech results and voice menus all read these sets; compare a text after
`portal.conversation.engine.normalize` (NFKC, lower case, trailing punctuation gone).
"""
from __future__ import annotations

# An emergency, before any open conversation (texts and speech).
EMERGENCY = frozenset({"救命", "救救我", "救命啊", "快来人", "急救", "sos", "help me"})
# Opt-out and back in, and help: global keywords, before any open conversation.
STOP = frozenset({"stop", "stopall", "unsubscribe", "end", "quit", "退订", "td"})
START = frozenset({"start", "unstop", "订阅", "恢复"})
HELP = frozenset({"help", "info", "帮助"})
# Inside a conversation.
MENU = frozenset({"服务", "下单", "菜单", "申请", "menu", "order", "request", "service"})
CANCEL = frozenset({"取消", "退出", "算了", "cancel", "quit"})
YES = frozenset({"1", "确认", "好", "好的", "是", "是的", "对", "yes", "ok", "y"})
NO = frozenset({"2", "不要", "拒绝", "不需要", "不是", "不对", "否", "refuse", "no", "n"})
# Voice: asking for a person instead of the menu.
PERSON = frozenset({"人工", "转人工", "工作人员", "operator", "person"})
