import pytest

from portal.services.phones import InvalidPhone, display_phone, mask_phone, normalize_phone


@pytest.mark.parametrize(
    "typed",
    ["138 0000 0001", "+86-138-0000-0001", "8613800000001", "13800000001", "(+86) 138.0000.0001",
     "０086 138 0000 0001", "１３８００００００01"],
)
def test_common_forms_normalise_to_one_number(typed):
    assert normalize_phone(typed) == "+8613800000001"


@pytest.mark.parametrize("typed", ["", "   ", "12345", "138000000011111", "abc", "😀138", "1" * 40])
def test_invalid_numbers_are_refused_with_a_message(typed):
    with pytest.raises(InvalidPhone) as caught:
        normalize_phone(typed)
    assert str(caught.value.message)
    assert caught.value.field == "phone"


def test_landline_with_area_code_is_accepted():
    assert normalize_phone("0817-2222333") == "+868172222333"


def test_lists_show_masked_numbers():
    assert mask_phone("+8613800000001") == "138****0001"
    assert display_phone("+8613800000001") == "138 0000 0001"
