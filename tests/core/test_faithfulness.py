"""Faithfulness: given values reflected (or their absence flagged); invented numbers, materials,
certifications and superlatives flagged."""

from adcopy_desktop.core.faithfulness import check_faithfulness, describe, faithfulness_value

JACKET_ZH = [("类型", "上衣"), ("材质", "牛仔布"), ("颜色", "白色"), ("风格", "简约")]
JACKET_EN = [("Type", "denim jacket"), ("Color", "white"), ("Material", "cotton denim"), ("Fit", "relaxed")]


def unsupported(text, language, attributes):
    return [(c.kind, c.text) for c in check_faithfulness(text, language, attributes).unsupported]


def test_faithful_copy_reflects_every_value_and_claims_nothing_more():
    report = check_faithfulness("白色牛仔布上衣，简约利落。", "zh", JACKET_ZH)
    assert report.coverage == 1.0 and report.unsupported == []
    assert describe(report, "description")[0] == "faithful"
    assert faithfulness_value(report, "description") == 1.0


def test_a_missing_value_is_named():
    report = check_faithfulness("白色上衣，简约利落。", "zh", JACKET_ZH)
    assert report.coverage == 0.75
    label, explanation = describe(report, "description")
    assert label == "missing facts" and "牛仔布" in explanation


def test_an_invented_number_is_flagged_with_its_span():
    text = "A white cotton denim jacket, relaxed fit, 30% off and ships in 2 days."
    report = check_faithfulness(text, "en", JACKET_EN)
    assert [(c.kind, c.text) for c in report.unsupported] == [("number", "30%"), ("number", "2")]
    claim = report.unsupported[0]
    assert text[claim.start:claim.end] == "30%"


def test_a_given_number_is_supported_and_list_numbering_is_not_a_claim():
    attrs = [("类型", "保温杯"), ("容量", "500ml")]
    assert unsupported("500ml大容量保温杯", "zh", attrs) == []
    assert unsupported("- 1. 保温杯\n2. 500ml", "zh", attrs) == []


def test_an_invented_material_is_flagged_but_a_given_one_is_not():
    assert unsupported("白色牛仔布上衣，内衬采用真丝。", "zh", JACKET_ZH) == [("material", "真丝")]
    assert unsupported("A white denim jacket made of pure cotton.", "en", JACKET_EN) == [("material", "pure cotton")]
    assert unsupported("A white cotton denim jacket.", "en", JACKET_EN) == []


def test_a_material_word_that_is_part_of_the_facts_is_not_a_claim():
    assert unsupported("Polarized glasses for bright days.", "en", [("Type", "sunglasses")]) == []
    assert unsupported("Glass lenses.", "en", [("Type", "sunglasses")]) == [("material", "Glass")]


def test_a_material_in_a_pairing_suggestion_is_about_the_other_item():
    attrs = [("类型", "卫衣"), ("颜色", "灰色")]
    assert unsupported("灰色卫衣，搭配牛仔裤很好看。", "zh", attrs) == []
    assert unsupported("A gray hoodie. Pair it with denim shorts.", "en", [("Type", "hoodie"), ("Color", "gray")]) == []


def test_an_invented_certification_is_flagged():
    assert unsupported("白色牛仔布上衣，通过ISO认证。", "zh", JACKET_ZH) == [("certification", "ISO认证")]
    assert unsupported("A white denim jacket, certified organic and waterproof.", "en", JACKET_EN) == [
        ("certification", "certified organic"), ("certification", "waterproof")]
    assert unsupported("Waterproof boots.", "en", [("Type", "boots"), ("Feature", "waterproof")]) == []


def test_an_invented_superlative_is_flagged_unless_the_facts_say_it():
    assert unsupported("最受欢迎的白色牛仔布上衣", "zh", JACKET_ZH) == [("superlative", "最受欢迎")]
    assert unsupported("The softest, most durable white denim jacket.", "en", JACKET_EN) == [
        ("superlative", "softest"), ("superlative", "most durable")]
    assert unsupported("Loved by most customers, honest and modest.", "en", JACKET_EN) == []
    assert unsupported("销量第一的上衣", "zh", [*JACKET_ZH, ("卖点", "销量第一")]) == []


def test_values_in_the_other_language_are_checked_through_the_glossary():
    report = check_faithfulness("A white denim top with a minimalist cut.", "en", JACKET_ZH)
    assert report.coverage == 1.0
    report = check_faithfulness("A denim top.", "en", JACKET_ZH)
    assert [r.value for r in report.reflections if r.status == "missing"] == ["白色", "简约"]
    report = check_faithfulness("A jacket.", "en", [("产地", "景德镇")])
    assert [r.status for r in report.reflections] == ["unchecked"] and report.coverage is None


def test_more_claims_lower_the_value_and_short_kinds_need_fewer_values():
    one = check_faithfulness("白色牛仔布上衣，真丝内衬。", "zh", JACKET_ZH)
    two = check_faithfulness("白色牛仔布上衣，真丝内衬，3天发货。", "zh", JACKET_ZH)
    assert faithfulness_value(two, "description") < faithfulness_value(one, "description") < 1.0
    slogan = check_faithfulness("简约，刚刚好。", "zh", JACKET_ZH)  # 1 of 4 values
    assert faithfulness_value(slogan, "slogan") == 1.0
    assert faithfulness_value(slogan, "description") < 0.8


def test_bookkeeping_keys_and_list_values():
    attrs = [("SKU", "A-100"), ("颜色", "白色、蓝色")]
    report = check_faithfulness("白色款", "zh", attrs)
    assert [(r.value, r.status) for r in report.reflections] == [("白色", "reflected"), ("蓝色", "missing")]
