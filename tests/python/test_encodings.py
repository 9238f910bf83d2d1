"""Encodings decoded right (issue #13): legacy and Unicode encodings round-trip exactly.

Every text below was written for these tests: a few sentences of ordinary prose per language,
360-440 characters (150-220 for Chinese, Japanese and Korean, whose characters take two or three
bytes each), encoded with Python's own codecs. Each must come back exactly from ``decode_text``
and from ``parse_document`` of a ``.txt`` file, with the encoding recorded in the metadata under
a correct name: the codec used, or a superset of it that decodes the same bytes to the same text
(windows-1254 for ISO-8859-9, windows-1252 for ISO-8859-1, cp932 for Shift_JIS, EUC-JIS-2004 for
EUC-JP, GB18030 for GBK, Big5-HKSCS for Big5, cp949 for EUC-KR: ``SUPERSETS``).

Also: declared charsets of HTML (``<meta charset>``, ``http-equiv``) and XHTML (``<?xml
encoding?>``), right, wrong and undecodable; the confidence recorded and when it is low; binary
and undecodable content still rejected.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from python_udfs.parsing import BinaryContentError, InvalidEncodingError, decode_text, parse_document  # noqa: E402
from python_udfs.parsing.encoding import (  # noqa: E402
    CERTAIN,
    DISPUTED_DECLARATION_CONFIDENCE,
    ENCODING_CONFIDENCE_KEY,
    ENCODING_KEY,
    DecodedText,
    decode_bytes,
)

pytestmark = pytest.mark.unit

# The default var encoding_min_confidence (dbt_project.yml): below it, tests/warn_low_confidence_encodings.sql warns.
MIN_CONFIDENCE = 0.5

TURKISH = (
    "İstanbul'un tarihi yarımadasında yürürken insan her adımda başka bir yüzyıla giriyor gibi hissediyor. "
    "Sultanahmet Meydanı'ndan Kapalıçarşı'ya uzanan sokaklarda satıcılar lokum, baharat ve el dokuması "
    "kilimler satıyor. Öğle saatlerinde ezan sesleri şehrin üzerine yayılırken, Boğaz'dan esen serin rüzgâr "
    "yorgun gezginlere biraz nefes aldırıyor. Akşamüstü vapura binip karşı kıyıya geçmek, günü bitirmenin en "
    "güzel yoludur."
)
POLISH = (
    "Zeszłej jesieni ornitolodzy zauważyli, że żurawie coraz później odlatują z mazurskich mokradeł. Przez "
    "całe tygodnie widywano ogromne stada żerujące na polach kukurydzy, a ich klangor było słychać aż w "
    "pobliskich wsiach. Naukowcy przypuszczają, że łagodniejsze zimy i obfitość pożywienia sprawiają, iż "
    "ptaki nie spieszą się w drogę. Część z nich zostaje nawet do grudnia, ryzykując nagłe mrozy i śnieżyce."
)
CZECH = (
    "Těch několik týdnů na horách mi změnilo pohled na svět. Každé ráno jsem vstával před východem slunce, "
    "pil hořký čaj z termosky a díval se, jak se mlha pomalu zvedá z údolí. Místní pastýř mi vyprávěl o "
    "časech, kdy se do vesnice dalo dojít jen pěšky, a o zimách, kdy sníh zasypal chalupy až po střechu. "
    "Když jsem odjížděl, slíbil jsem si, že se sem ještě vrátím."
)
ENGLISH = (
    "Our quarterly report is finally out — and the numbers look better than anyone expected. Revenue rose "
    "to €4.2 million, driven largely by the café chain’s new “breakfast all day” menu. The board’s chairman, "
    "François Dubois, thanked the staff: “None of this would have happened without you.” Next quarter we’ll "
    "focus on the Zürich and Malmö openings, which are already ahead of schedule."
)
GERMAN = (
    "Jeden Sommer fahren wir an den Bodensee, wo meine Großeltern ein kleines Häuschen am Ufer besitzen. "
    "Morgens holt Opa frische Brötchen vom Bäcker, und Oma kocht Kaffee in ihrer alten Kanne, die sie seit "
    "über vierzig Jahren benutzt. Nach dem Frühstück gehen wir schwimmen oder fahren mit dem Ruderboot "
    "hinaus. Abends grillen wir Würstchen, schauen über das Wasser zu den Schweizer Bergen und erzählen uns "
    "Geschichten, bis es dunkel wird."
)
FRENCH = (
    "Au marché du samedi, les étals débordent de légumes de saison : poireaux, potirons, endives et "
    "céleris. Le fromager vante son comté affiné dix-huit mois, vendu 24 € le kilo, tandis que la "
    "boulangère propose des brioches encore tièdes. Ma sœur achète toujours un bouquet de fleurs pour notre "
    "mère, et nous finissons la matinée au café du coin, où le patron nous sert un chocolat chaud et des "
    "œufs brouillés."
)
RUSSIAN_WINTER = (
    "Зимним утром я вышел из дома и сразу почувствовал, как мороз щиплет щёки. Во дворе дворник уже "
    "расчищал дорожки, а соседские дети лепили снеговика у подъезда. По дороге на работу я зашёл в булочную "
    "за свежим хлебом и горячими пирожками с капустой. В трамвае было тесно и шумно, но за окном мелькали "
    "заснеженные деревья, и от этой картины на душе становилось спокойно и радостно."
)
RUSSIAN_LIBRARY = (
    "Библиотека нашего города была основана более ста лет назад. Сегодня в её фондах хранится свыше "
    "полумиллиона книг, журналов и рукописей, в том числе редкие издания девятнадцатого века. Каждую субботу "
    "здесь проходят встречи с писателями, лекции по истории и занятия для детей. Читатели могут бесплатно "
    "пользоваться компьютерами, а в читальном зале всегда тихо и уютно, даже когда на улице идёт дождь."
)
GREEK = (
    "Στο μικρό χωριό της Κρήτης όπου μεγάλωσα, οι γιαγιάδες κάθονταν κάθε απόγευμα στην αυλή και έπλεκαν, "
    "ενώ τα παιδιά έπαιζαν κρυφτό ανάμεσα στις ελιές. Το Άγιο Πάσχα ήταν η μεγαλύτερη γιορτή της χρονιάς: "
    "ψήναμε αρνί στη σούβλα, βάφαμε κόκκινα αυγά και όλο το χωριό μαζευόταν στην εκκλησία για την Ανάσταση. "
    "Ακόμα θυμάμαι τη μυρωδιά από το θυμάρι και το λιβάνι."
)
JAPANESE_TRIP = (
    "先週末、家族で北海道へ旅行に行きました。札幌の時計台を見学した後、小樽まで足をのばして、運河沿いの古い倉庫街を"
    "散歩しました。お昼には新鮮な海鮮丼を食べましたが、いくらとうにがとても甘くて驚きました。夜は温泉旅館に泊まり、"
    "雪を眺めながら露天風呂に入りました。寒い季節でしたが、地元の人たちの親切さに心が温まる旅になりました。来年は"
    "夏に訪れて、富良野のラベンダー畑を見てみたいと思っています。"
)
JAPANESE_OFFICE = (
    "来月から新しい勤務制度が始まります。社員は週に二日まで自宅で仕事をすることができ、出社する日は事前に上司へ"
    "連絡してください。会議はできるだけオンラインで行い、資料は共有フォルダに保存するようお願いします。また、"
    "ノートパソコンを社外に持ち出す場合は、必ずパスワードを設定し、公共の無線通信には接続しないでください。"
    "ご不明な点があれば、人事部の担当者までお気軽にお問い合わせください。"
)
JAPANESE_GARDEN = (
    "祖母の庭には、季節ごとにさまざまな花が咲きます。春には梅と桜、夏には朝顔とひまわり、秋には菊と彼岸花が"
    "並び、冬でも椿が赤い花をつけます。祖母は毎朝早く起きて、雑草を抜いたり、水をやったりしています。私が遊びに"
    "行くと、いつも縁側でお茶を入れてくれて、花の名前や育て方を一つずつ教えてくれます。いつか自分の家にも、"
    "こんな庭を作りたいと思っています。"
)
CHINESE_SIMPLIFIED = (
    "我的家乡在江南的一个小镇上，镇子中间有一条清澈的小河，河上架着几座古老的石桥。小时候，我每天放学后都会和"
    "小伙伴们在河边玩耍，捉小鱼、捡石子，一直玩到天黑才回家。镇上的老街两旁开着各种小店，有卖糕点的，有卖茶叶的，"
    "还有一家做了几十年的面馆。现在虽然我在大城市工作，但每次回到家乡，走在熟悉的青石板路上，心里总是感到特别"
    "温暖和踏实。"
)
CHINESE_TRADITIONAL = (
    "我們學校的圖書館上個月重新開放了。新的閱覽室非常寬敞明亮，窗外就是一片綠油油的草地。館內增加了許多電腦，"
    "同學們可以在這裡查資料、寫報告，也可以借閱最新的雜誌和小說。每個星期五下午，圖書館還會舉辦讀書會，邀請老師"
    "和同學一起分享自己喜歡的書。自從開放以來，來這裡看書的人越來越多，大家都說這是校園裡最舒服的地方。"
)
KOREAN_MARKET = (
    "우리 동네에는 오래된 전통 시장이 있습니다. 주말 아침이면 시장 골목은 장을 보러 온 사람들로 북적입니다. "
    "채소 가게 아주머니는 늘 웃는 얼굴로 덤을 얹어 주시고, 떡집에서는 갓 찐 떡의 고소한 냄새가 퍼집니다. "
    "점심때가 되면 사람들은 작은 분식집에 모여 떡볶이와 순대를 먹으며 이야기를 나눕니다. 큰 마트가 생긴 뒤에도 "
    "이 시장을 찾는 사람들이 많은 것은 이런 따뜻한 정 때문일 것입니다."
)
KOREAN_LIBRARY = (
    "시립 도서관은 다음 달부터 평일 운영 시간을 밤 열 시까지 연장한다고 밝혔습니다. 이에 따라 직장인과 "
    "학생들도 퇴근이나 수업이 끝난 뒤에 편하게 도서관을 이용할 수 있게 되었습니다. 도서관은 또한 어린이 열람실을 "
    "새로 꾸미고, 매주 토요일에는 작가와의 만남과 독서 토론 같은 다양한 행사를 열 계획입니다. 자세한 내용은 "
    "도서관 홈페이지에서 확인할 수 있습니다."
)

# Python codec name -> the names a correct detection may record for bytes written with it: the
# codec itself or a superset that decodes them to the same text (or, for windows-1254, the
# subset those exact bytes belong to).
SUPERSETS: dict[str, frozenset[str]] = {
    "iso8859-9": frozenset(("iso8859-9", "cp1254")),
    # Turkish written in windows-1254 without its extra punctuation (0x80-0x9F) is ISO-8859-9.
    "cp1254": frozenset(("cp1254", "iso8859-9")),
    "iso8859-1": frozenset(("iso8859-1", "cp1252")),
    "shift_jis": frozenset(("shift_jis", "cp932", "shift_jis_2004")),
    "euc_jp": frozenset(("euc_jp", "euc_jis_2004")),
    "iso2022_jp": frozenset(("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_2004")),
    "gbk": frozenset(("gbk", "gb18030")),
    "big5": frozenset(("big5", "big5hkscs")),
    "euc_kr": frozenset(("euc_kr", "cp949")),
}

# (language, text, codec): 26 cases in 24 encodings; UTF-16/32 are written without a byte-order mark.
ROUND_TRIPS = [
    ("turkish", TURKISH, "iso8859-9"),
    ("turkish", TURKISH, "cp1254"),
    ("polish", POLISH, "iso8859-2"),
    ("czech", CZECH, "cp1250"),
    ("english", ENGLISH, "cp1252"),
    ("german", GERMAN, "iso8859-1"),
    ("french", FRENCH, "iso8859-15"),
    ("russian", RUSSIAN_WINTER, "koi8-r"),
    ("russian", RUSSIAN_LIBRARY, "cp1251"),
    ("greek", GREEK, "iso8859-7"),
    ("greek", GREEK, "cp1253"),
    ("japanese", JAPANESE_TRIP, "shift_jis"),
    ("japanese", JAPANESE_OFFICE, "euc_jp"),
    ("japanese", JAPANESE_GARDEN, "iso2022_jp"),
    ("chinese", CHINESE_SIMPLIFIED, "gb18030"),
    ("chinese", CHINESE_SIMPLIFIED, "gbk"),
    ("chinese", CHINESE_TRADITIONAL, "big5"),
    ("korean", KOREAN_MARKET, "euc_kr"),
    ("korean", KOREAN_LIBRARY, "iso2022_kr"),
    ("japanese", JAPANESE_TRIP, "utf-16-le"),
    ("russian", RUSSIAN_WINTER, "utf-16-be"),
    ("greek", GREEK, "utf-32-le"),
    ("chinese", CHINESE_SIMPLIFIED, "utf-32-be"),
    ("polish", POLISH, "utf-8"),
    ("japanese", JAPANESE_OFFICE, "utf-8-sig"),
    ("korean", KOREAN_MARKET, "utf-16-be"),
]


LEGACY_ROUND_TRIPS = [case for case in ROUND_TRIPS if not case[2].startswith("utf")]


def round_trip_id(case: tuple[str, str, str]) -> str:
    """``codec-language`` for the test ids."""
    language, _, codec = case
    return f"{codec}-{language}"


def assert_correct_name(decoded: DecodedText, codec: str, data: bytes) -> None:
    """The recorded encoding is ``codec`` or one of its supersets, and decodes ``data`` to the text."""
    assert decoded.encoding in SUPERSETS.get(codec, frozenset((codec,))), decoded.encoding
    assert data.decode(decoded.encoding) == decoded.text


@pytest.mark.parametrize("case", ROUND_TRIPS, ids=round_trip_id)
def test_decode_round_trips_exactly(case: tuple[str, str, str]) -> None:
    _, text, codec = case
    data = text.encode(codec)
    decoded = decode_bytes(data)
    assert decoded.text == text
    assert decode_text(data) == text
    assert_correct_name(decoded, codec, data)
    assert MIN_CONFIDENCE <= decoded.confidence <= 1.0, "a whole paragraph is never flagged"


@pytest.mark.parametrize("case", ROUND_TRIPS, ids=round_trip_id)
def test_text_file_round_trips_with_its_encoding_in_metadata(case: tuple[str, str, str]) -> None:
    _, text, codec = case
    data = text.encode(codec)
    (record,) = parse_document("legacy/notes.txt", data).records
    assert record.text == text
    decoded = decode_bytes(data)
    if codec == "utf-8":
        assert record.metadata == {}, "plain UTF-8 is the default: nothing to record"
    else:
        assert record.metadata == {
            ENCODING_KEY: decoded.encoding,
            ENCODING_CONFIDENCE_KEY: round(decoded.confidence, 3),
        }


def test_the_encodings_named_in_the_issue() -> None:
    """The words the tester saw as mojibake: "İstanbul" ("Ýstanbul"), "zauważyli", "Těch"."""
    assert "İstanbul'un" in decode_text(TURKISH.encode("iso8859-9"))
    assert "zauważyli" in decode_text(POLISH.encode("iso8859-2"))
    assert decode_text(CZECH.encode("cp1250")).startswith("Těch")


def test_bomless_wide_encodings_are_not_binary() -> None:
    for codec in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        data = GERMAN.encode(codec)
        assert not data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"))
        assert decode_bytes(data) == DecodedText(GERMAN, codec, CERTAIN)


def test_utf16_cjk_text_without_any_nul_byte() -> None:
    data = JAPANESE_TRIP.encode("utf-16-le")
    assert b"\x00" not in data, "kana and kanji code units have no zero byte: no NUL pattern to go by"
    assert decode_bytes(data).text == JAPANESE_TRIP


def test_iso2022_is_recognised_before_the_control_character_check() -> None:
    text = "서울에서 만나요. 내일 봐요."
    data = text.encode("iso2022_kr")
    controls = sum(byte < 0x20 for byte in data)
    assert controls > 0.05 * len(data), "SO/SI and ESC would make it binary content"
    decoded = decode_bytes(data)
    assert (decoded.text, decoded.encoding, decoded.confidence) == (text, "iso2022_kr", CERTAIN)
    japanese = decode_text(JAPANESE_GARDEN.encode("iso2022_jp"))
    assert japanese == JAPANESE_GARDEN and "\x1b" not in japanese


def test_byte_order_marks_are_certain() -> None:
    assert decode_bytes(b"\xef\xbb\xbf" + POLISH.encode()) == DecodedText(POLISH, "utf-8-sig", CERTAIN)
    assert decode_bytes(GREEK.encode("utf-16")) == DecodedText(GREEK, "utf-16", CERTAIN)
    assert decode_bytes(GREEK.encode("utf-32")) == DecodedText(GREEK, "utf-32", CERTAIN)


def test_utf8_and_ascii_are_certain_and_not_recorded() -> None:
    assert decode_bytes(POLISH.encode()) == DecodedText(POLISH, "utf-8", CERTAIN)
    assert decode_bytes(b"plain text") == DecodedText("plain text", "ascii", CERTAIN)
    assert DecodedText("x", "utf-8", CERTAIN).metadata() == {}
    assert DecodedText("x", "koi8-r", 0.8).metadata() == {ENCODING_KEY: "koi8-r", ENCODING_CONFIDENCE_KEY: 0.8}


@pytest.mark.parametrize("case", LEGACY_ROUND_TRIPS, ids=round_trip_id)
def test_short_prefixes_are_right_or_flagged(case: tuple[str, str, str]) -> None:
    """Ambiguity is measured, not hidden: a prefix too short to tell is flagged, never confidently wrong.

    Every prefix of 6 to ~100 characters in 5-character steps (single-byte pairs such as ISO-8859-9
    and Latin-1 are genuinely ambiguous for a few words: "İstanbul'un tarihi y" reads as
    "Ýstanbul'un..." too) decodes to the exact text or gets a confidence under the default
    threshold.
    """
    _, text, codec = case
    for length in range(6, 100, 5):
        prefix = text[:length]
        data = prefix.encode(codec)
        if data.isascii():
            continue
        decoded = decode_bytes(data)
        assert decoded.text == prefix or decoded.confidence < MIN_CONFIDENCE, (length, decoded.encoding)


def test_a_single_ambiguous_word_is_flagged() -> None:
    decoded = decode_bytes("Těch".encode("cp1250"))  # also "Tìch" (windows-1252), "T́ch" (windows-1258)...
    assert decoded.confidence < MIN_CONFIDENCE


def test_binary_content_is_still_binary() -> None:
    with pytest.raises(BinaryContentError):
        decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(BinaryContentError):
        decode_bytes(bytes(range(1, 32)) * 40 + "ő".encode("iso8859-2"))
    with pytest.raises(BinaryContentError):
        decode_bytes(bytes([0x00, 0xD8, 0x41, 0x00]) * 50)  # NULs, but unpaired UTF-16 surrogates
    assert parse_document("blob.txt", b"\x00\x01\x02" + bytes(range(200, 256)) * 8).reason == "binary_content"


def test_a_few_stray_bytes_in_ascii_text_keep_the_document() -> None:
    data = b"Invalid UTF-8 \xff\xfe\xc3\x28 bytes inside the otter census report.\n"
    (record,) = parse_document("otters.txt", data).records
    assert record.text == data.decode("cp1252")
    assert record.metadata[ENCODING_KEY] == "cp1252"


def test_bytes_no_encoding_reads_as_text_are_invalid_encoding() -> None:
    with pytest.raises(InvalidEncodingError):
        decode_bytes(bytes(range(0x80, 0x100)) * 4)
    assert parse_document("a.md", bytes(range(0x80, 0x100)) * 4).reason == "invalid_encoding"


# --------------------------------------------------------------------------------------------
# Other text formats record the encoding too
# --------------------------------------------------------------------------------------------


def test_markdown_and_json_records_carry_the_encoding() -> None:
    markdown = f"---\ntitle: Horské dny\n---\n# Hory\n\n{CZECH}\n".encode("cp1250")
    (record,) = parse_document("hory.md", markdown).records
    assert record.title == "Horské dny" and CZECH in record.text
    assert record.metadata["title"] == "Horské dny"
    assert record.metadata[ENCODING_KEY] == "cp1250" and record.metadata[ENCODING_CONFIDENCE_KEY] >= MIN_CONFIDENCE
    lines = [f'{{"id": {i}, "text": "{sentence}."}}' for i, sentence in enumerate(RUSSIAN_WINTER.split(". "))]
    records = parse_document("zima.jsonl", "\n".join(lines).encode("koi8-r")).records
    assert len(records) == len(lines)
    assert {r.metadata[ENCODING_KEY] for r in records} == {"koi8-r"}
    assert records[0].text == RUSSIAN_WINTER.split(". ")[0] + "."


# --------------------------------------------------------------------------------------------
# Declared charsets: HTML <meta>, http-equiv, XML declaration
# --------------------------------------------------------------------------------------------


def html_page(head: str, body: str) -> str:
    """A small page: ``head`` in <head>, ``body`` as its only paragraph."""
    return f"<html><head>{head}<title>Strona</title></head><body><p>{body}</p></body></html>"


def only_html_record(data: bytes, path: str = "page.html") -> tuple[str, dict[str, object]]:
    """(text, metadata) of the one document of an HTML file."""
    (record,) = parse_document(path, data).records
    return record.text, record.metadata


def test_html_meta_charset_is_honoured() -> None:
    data = html_page('<meta charset="iso-8859-2">', POLISH).encode("iso8859-2")
    text, metadata = only_html_record(data)
    assert text == POLISH
    assert metadata == {ENCODING_KEY: "iso8859-2", ENCODING_CONFIDENCE_KEY: CERTAIN}, "declared and detected agree"


def test_html_http_equiv_charset_is_honoured() -> None:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
    text, metadata = only_html_record(html_page(head, RUSSIAN_LIBRARY).encode("cp1251"))
    assert text == RUSSIAN_LIBRARY
    assert metadata[ENCODING_KEY] == "cp1251"


def test_xhtml_xml_declaration_is_honoured() -> None:
    page = '<?xml version="1.0" encoding="ISO-8859-7"?>\n' + html_page("", GREEK)
    text, metadata = only_html_record(page.encode("iso8859-7"), "page.xhtml.html")
    assert text == GREEK
    assert metadata == {ENCODING_KEY: "iso8859-7", ENCODING_CONFIDENCE_KEY: CERTAIN}


def test_xml_declaration_comes_before_meta() -> None:
    page = '<?xml version="1.0" encoding="windows-1250"?>' + html_page('<meta charset="iso-8859-2">', CZECH)
    text, metadata = only_html_record(page.encode("cp1250"))
    assert text == CZECH and metadata[ENCODING_KEY] == "cp1250"


def test_declaration_that_does_not_decode_falls_back_to_detection() -> None:
    data = html_page('<meta charset="utf-8">', CZECH).encode("cp1250")  # not valid UTF-8
    text, metadata = only_html_record(data)
    assert text == CZECH
    assert metadata[ENCODING_KEY] == "cp1250"


def test_unknown_charset_label_falls_back_to_detection() -> None:
    data = html_page('<meta charset="x-no-such-charset">', TURKISH).encode("iso8859-9")
    text, metadata = only_html_record(data)
    assert text == TURKISH and metadata[ENCODING_KEY] in SUPERSETS["iso8859-9"]


def test_wrong_declaration_that_decodes_is_honoured_but_flagged() -> None:
    data = html_page('<meta charset="iso-8859-1">', RUSSIAN_WINTER).encode("koi8-r")
    text, metadata = only_html_record(data)
    assert text == RUSSIAN_WINTER.encode("koi8-r").decode("cp1252"), "the declaration is honoured"
    assert metadata == {ENCODING_KEY: "cp1252", ENCODING_CONFIDENCE_KEY: DISPUTED_DECLARATION_CONFIDENCE}
    assert DISPUTED_DECLARATION_CONFIDENCE < MIN_CONFIDENCE


def test_valid_utf8_wins_over_a_stale_legacy_declaration() -> None:
    text, metadata = only_html_record(html_page('<meta charset="windows-1252">', GERMAN).encode("utf-8"))
    assert text == GERMAN and metadata == {}


def test_byte_order_mark_wins_over_the_declaration() -> None:
    data = b"\xef\xbb\xbf" + html_page('<meta charset="windows-1251">', POLISH).encode("utf-8")
    text, metadata = only_html_record(data)
    assert text == POLISH and metadata[ENCODING_KEY] == "utf-8-sig"


def test_ascii_page_with_a_declaration_records_nothing() -> None:
    text, metadata = only_html_record(html_page('<meta charset="iso-8859-2">', "Plain words only.").encode())
    assert text == "Plain words only." and metadata == {}
