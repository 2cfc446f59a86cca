"""Countries, currencies and culturally consistent company and person names.

Names are built from small pools per language so that a sample has Italian,
German, French, Spanish, Polish, Turkish, English, Arabic (often in Arabic
script), Chinese and Japanese customers whose country and billing currency agree
with the name. Everything is vectorised over numpy string arrays so that a
million accounts are named in about a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STR = np.dtypes.StringDType()


@dataclass(frozen=True)
class Country:
    code: str
    currency: str
    language: str
    weight: float
    cities: tuple[str, ...]
    """City names in the country's own script."""
    cities_latin: tuple[str, ...]
    legal_forms: tuple[str, ...]
    label: str
    """How a foreign group names its subsidiary here ("Rossi Meccanica Deutschland GmbH")."""


_LATIN_CITIES = {
    "AE": ("Dubai", "Abu Dhabi", "Sharjah", "Ajman"),
    "SA": ("Riyadh", "Jeddah", "Dammam", "Jubail"),
    "EG": ("Cairo", "Alexandria", "10th of Ramadan", "6th of October"),
    "CN": ("Shanghai", "Suzhou", "Ningbo", "Tianjin", "Shenzhen", "Qingdao"),
    "JP": ("Osaka", "Nagoya", "Hamamatsu", "Yokohama"),
}


def _country(code, currency, language, weight, cities, forms, label) -> Country:
    return Country(code, currency, language, weight, cities,
                   _LATIN_CITIES.get(code, cities), forms, label)


# Weights: a European distributor (reporting currency EUR) with a strong home market
# in Italy, the rest of Europe, and export business in the Gulf, Egypt, China, Japan, US.
COUNTRIES: tuple[Country, ...] = (
    _country("IT", "EUR", "it", 0.22, ("Milano", "Torino", "Brescia", "Bologna", "Verona",
             "Bergamo", "Padova", "Modena"), ("S.p.A.", "S.r.l."), "Italia"),
    _country("DE", "EUR", "de", 0.14, ("Stuttgart", "München", "Hamburg", "Köln",
             "Düsseldorf", "Nürnberg", "Hannover", "Dortmund"),
             ("GmbH", "AG", "GmbH & Co. KG"), "Deutschland"),
    _country("AT", "EUR", "de", 0.03, ("Wien", "Linz", "Graz", "Salzburg"), ("GmbH", "AG"),
             "Austria"),
    _country("CH", "CHF", "de", 0.03, ("Zürich", "Basel", "Winterthur", "St. Gallen"),
             ("AG", "GmbH"), "Schweiz"),
    _country("FR", "EUR", "fr", 0.10, ("Lyon", "Lille", "Toulouse", "Nantes", "Grenoble",
             "Strasbourg"), ("SAS", "SA", "SARL"), "France"),
    _country("ES", "EUR", "es", 0.08, ("Bilbao", "Barcelona", "Valencia", "Zaragoza",
             "Sevilla", "Vigo"), ("S.L.", "S.A."), "España"),
    _country("PL", "PLN", "pl", 0.07, ("Poznań", "Wrocław", "Łódź", "Katowice", "Gdańsk",
             "Kraków"), ("Sp. z o.o.", "S.A."), "Polska"),
    _country("TR", "TRY", "tr", 0.06, ("Bursa", "İzmir", "Kocaeli", "Ankara", "Konya",
             "Gaziantep"), ("Sanayi ve Ticaret A.Ş.", "Ltd. Şti."), "Türkiye"),
    _country("GB", "GBP", "en", 0.06, ("Birmingham", "Sheffield", "Leeds", "Bristol",
             "Coventry", "Glasgow"), ("Ltd", "plc"), "UK"),
    _country("US", "USD", "en", 0.04, ("Houston", "Chicago", "Detroit", "Cleveland",
             "Charlotte", "Phoenix"), ("Inc.", "LLC", "Corp."), "USA"),
    _country("AE", "AED", "ar", 0.04, ("دبي", "أبوظبي", "الشارقة", "عجمان"), ("LLC", "FZE"),
             "Middle East"),
    _country("SA", "SAR", "ar", 0.04, ("الرياض", "جدة", "الدمام", "الجبيل"), ("Co.", "Ltd"),
             "Arabia"),
    _country("EG", "EGP", "ar", 0.02, ("القاهرة", "الإسكندرية", "العاشر من رمضان",
             "السادس من أكتوبر"), ("S.A.E.",), "Egypt"),
    _country("CN", "CNY", "zh", 0.04, ("上海", "苏州", "宁波", "天津", "深圳", "青岛"),
             ("Co., Ltd.",), "China"),
    _country("JP", "JPY", "ja", 0.03, ("大阪", "名古屋", "浜松", "横浜"), ("Co., Ltd.",),
             "Japan"),
)

# Company-name pools: (first part, second part, word order). Latin-script languages
# use the same text natively and abroad.
_LATIN_POOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "it": (("Rossi", "Bianchi", "Ferrari", "Esposito", "Colombo", "Ricci", "Marino", "Greco",
            "Bruno", "Gallo", "Conti", "De Luca", "Costa", "Giordano", "Mancini", "Rizzo",
            "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi",
            "Caruso", "Ferrara", "Galli", "Martini", "Leone", "Longo", "Gentile"),
           ("Meccanica", "Componenti", "Industrie", "Impianti", "Automazioni", "Oleodinamica",
            "Macchine", "Tecnologie", "Costruzioni", "Alimentare", "Packaging", "Metalli"),
           "name_word"),
    "de": (("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
            "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
            "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann",
            "Hartmann", "Lange", "Schmitt", "Werner", "Krause", "Meier", "Lehmann"),
           ("Maschinenbau", "Antriebstechnik", "Fördertechnik", "Metallbau", "Anlagenbau",
            "Präzisionstechnik", "Verpackung", "Hydraulik", "Industrietechnik",
            "Lebensmitteltechnik", "Kunststofftechnik", "Stahlbau"), "name_word"),
    "fr": (("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
            "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "David", "Bertrand",
            "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont",
            "Lambert", "Bonnet", "François", "Legrand", "Gauthier", "Chevalier"),
           ("Mécanique", "Industries", "Usinage", "Hydraulique", "Chaudronnerie", "Emballages",
            "Automatismes", "Équipements", "Transmissions", "Ateliers"), "word_name"),
    "es": (("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
            "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno",
            "Álvarez", "Muñoz", "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres",
            "Domínguez", "Vázquez", "Ramos", "Gil", "Ramírez", "Serrano", "Blanco", "Molina"),
           ("Industrias", "Talleres", "Mecanizados", "Componentes", "Hidráulica", "Montajes",
            "Suministros", "Fundiciones", "Envases", "Ingeniería"), "word_name"),
    "pl": (("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński",
            "Lewandowski", "Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski",
            "Jankowski", "Mazur", "Kwiatkowski", "Krawczyk", "Piotrowski", "Grabowski",
            "Pawłowski", "Michalski", "Król", "Wieczorek", "Jabłoński", "Wróbel", "Majewski",
            "Olszewski", "Stępień", "Malinowski", "Jaworski", "Nowakowski"),
           ("Zakłady Mechaniczne", "Fabryka Maszyn", "Przedsiębiorstwo Produkcyjne", "Odlewnia",
            "Hydraulika Siłowa", "Technika Napędowa", "Zakład Usług Technicznych",
            "Metalplast"), "word_name"),
    "tr": (("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk",
            "Aydın", "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç",
            "Kurt", "Özkan", "Şimşek", "Polat", "Korkmaz", "Karaca", "Ekinci", "Güneş",
            "Aksoy", "Bulut", "Tekin", "Uçar", "Altun"),
           ("Makina", "Metal", "Otomotiv", "Hidrolik", "Plastik", "Döküm", "Mühendislik",
            "Enerji", "Gıda", "Ambalaj"), "name_word"),
    "en": (("Hartley", "Summit", "Riverside", "Northgate", "Ashford", "Kingsway", "Pioneer",
            "Redwood", "Granite", "Lakeside", "Westfield", "Beacon", "Sterling", "Harbour",
            "Oakridge", "Ironbridge", "Highland", "Crestline", "Midland", "Bayview",
            "Fairfield", "Eastwood", "Thornbury", "Carlton", "Whitmore", "Blackstone",
            "Greenfield", "Silverline", "Keystone", "Evergreen"),
           ("Engineering", "Industries", "Manufacturing", "Fabrication", "Components",
            "Systems", "Process Equipment", "Foods", "Packaging", "Mining Services", "Power",
            "Controls"), "name_word"),
}

# Non-Latin pools carry the native text and its transliteration side by side.
_AR_PREFIX = ("شركة", "مؤسسة", "مجموعة", "مصنع")
_AR_STEMS = (("الخليج", "Al Khaleej"), ("النور", "Al Noor"), ("الصحراء", "Al Sahraa"),
             ("الفجر", "Al Fajr"), ("الأمل", "Al Amal"), ("الشرق", "Al Sharq"),
             ("النخيل", "Al Nakheel"), ("الجزيرة", "Al Jazeera"), ("الوطنية", "Al Wataniya"),
             ("السلام", "Al Salam"), ("الرواد", "Al Rowad"), ("المستقبل", "Al Mustaqbal"),
             ("الهلال", "Al Hilal"), ("البناء", "Al Binaa"), ("الريان", "Al Rayyan"),
             ("الأفق", "Al Ofoq"))
_AR_TRADES = (("للتجارة", "Trading"), ("للصناعات", "Industries"), ("للمقاولات", "Contracting"),
              ("للمعدات الصناعية", "Industrial Equipment"), ("للهندسة", "Engineering"),
              ("للطاقة", "Energy"), ("للأغذية", "Foods"), ("للبلاستيك", "Plastics"),
              ("للصلب", "Steel"), ("للتعدين", "Mining"))
_ZH_BRANDS = (("恒通", "Hengtong"), ("华盛", "Huasheng"), ("永安", "Yong'an"), ("宏达", "Hongda"),
              ("金桥", "Jinqiao"), ("东方", "Dongfang"), ("新华", "Xinhua"), ("长城", "Changcheng"),
              ("中泰", "Zhongtai"), ("天成", "Tiancheng"), ("瑞丰", "Ruifeng"),
              ("鼎盛", "Dingsheng"))
_ZH_TRADES = (("机械", "Machinery"), ("电气", "Electric"), ("精密", "Precision"),
              ("汽车部件", "Auto Parts"), ("包装", "Packaging"), ("化工", "Chemical"),
              ("重工", "Heavy Industry"), ("自动化", "Automation"))
_JA_NAMES = (("山田", "Yamada"), ("佐藤", "Sato"), ("鈴木", "Suzuki"), ("高橋", "Takahashi"),
             ("田中", "Tanaka"), ("渡辺", "Watanabe"), ("伊藤", "Ito"), ("中村", "Nakamura"),
             ("小林", "Kobayashi"), ("加藤", "Kato"))
_JA_TRADES = (("製作所", "Seisakusho"), ("工業", "Kogyo"), ("精機", "Seiki"), ("電機", "Denki"),
              ("化学", "Kagaku"), ("機械", "Kikai"))

NATIVE_SCRIPT_SHARE = {"ar": 0.6, "zh": 0.7, "ja": 0.7}
"""Share of accounts whose ERP name is in their own script rather than transliterated."""


@dataclass(frozen=True)
class Names:
    """Names of a batch of accounts, plus the parts a group reuses for its subsidiaries."""

    name: np.ndarray
    stem_latin: np.ndarray
    """Brand part in Latin script ("Rossi Meccanica", "Al Khaleej Trading")."""
    native: np.ndarray
    """True when the name is written in a non-Latin script."""


def _s(values) -> np.ndarray:
    return np.asarray(values, dtype=STR)


def _cat(*parts) -> np.ndarray:
    """Element-wise concatenation of string arrays and scalars."""
    out = _s(parts[0]) if not isinstance(parts[0], str) else parts[0]
    for part in parts[1:]:
        out = np.strings.add(out, part if isinstance(part, str) else _s(part))
    return _s(out)


def _pick(rng: np.random.Generator, pool, n: int) -> np.ndarray:
    return _s(pool)[rng.integers(0, len(pool), n)]


def _pair(rng: np.random.Generator, pool, n: int) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.integers(0, len(pool), n)
    return _s([p[0] for p in pool])[idx], _s([p[1] for p in pool])[idx]


def company_names(rng: np.random.Generator, country: Country, n: int) -> Names:
    """Names for n stand-alone (or group-top) accounts in one country."""
    forms = _pick(rng, country.legal_forms, n)
    lang = country.language
    if lang in _LATIN_POOLS:
        first, second, order = _LATIN_POOLS[lang]
        a, b = _pick(rng, first, n), _pick(rng, second, n)
        stem = _cat(a, " ", b) if order == "name_word" else _cat(b, " ", a)
        return Names(_cat(stem, " ", forms), stem, np.zeros(n, dtype=bool))
    native = rng.random(n) < NATIVE_SCRIPT_SHARE[lang]
    if lang == "ar":
        stem_ar, stem_en = _pair(rng, _AR_STEMS, n)
        trade_ar, trade_en = _pair(rng, _AR_TRADES, n)
        native_name = _cat(_pick(rng, _AR_PREFIX, n), " ", stem_ar, " ", trade_ar)
        stem = _cat(stem_en, " ", trade_en)
    elif lang == "zh":
        city_idx = rng.integers(0, len(country.cities), n)
        brand_zh, brand_en = _pair(rng, _ZH_BRANDS, n)
        trade_zh, trade_en = _pair(rng, _ZH_TRADES, n)
        native_name = _cat(_s(country.cities)[city_idx], brand_zh, trade_zh, "有限公司")
        stem = _cat(_s(country.cities_latin)[city_idx], " ", brand_en, " ", trade_en)
    else:  # ja
        fam_ja, fam_en = _pair(rng, _JA_NAMES, n)
        trade_ja, trade_en = _pair(rng, _JA_TRADES, n)
        prefixed = rng.random(n) < 0.5  # both 株式会社X and X株式会社 are common
        native_name = np.where(prefixed, _cat("株式会社", fam_ja, trade_ja),
                               _cat(fam_ja, trade_ja, "株式会社"))
        stem = _cat(fam_en, " ", trade_en)
    name = np.where(native, native_name, _cat(stem, " ", forms))
    return Names(_s(name), stem, native)


def subsidiary_names(rng: np.random.Generator, top_name: np.ndarray, top_stem: np.ndarray,
                     top_native: np.ndarray, top_country: np.ndarray,
                     sub_country: np.ndarray) -> np.ndarray:
    """Names of subsidiaries, derived from their group top's name.

    A subsidiary at home is named after its city (a branch); abroad after the country,
    with the local legal form: "Rossi Meccanica Deutschland GmbH".
    """
    n = len(top_name)
    by_code = {c.code: c for c in COUNTRIES}
    out = np.empty(n, dtype=STR)
    for code in sorted(set(sub_country.tolist())):
        c = by_code[code]
        rows = np.flatnonzero(sub_country == code)
        k = len(rows)
        city_idx = rng.integers(0, len(c.cities), k)
        city, city_latin = _s(c.cities)[city_idx], _s(c.cities_latin)[city_idx]
        forms = _pick(rng, c.legal_forms, k)
        home = top_country[rows] == code
        native = top_native[rows] & home
        latin_home = _cat(top_stem[rows], " ", city_latin, " ", forms)
        abroad = _cat(top_stem[rows], " ", c.label, " ", forms)
        if c.language == "ar":
            branch = _cat(top_name[rows], " - فرع ", city)
        elif c.language == "zh":
            branch = _cat(top_name[rows], city, "分公司")
        elif c.language == "ja":
            branch = _cat(top_name[rows], " ", city, "支店")
        else:
            branch = latin_home
        out[rows] = np.where(native, branch, np.where(home, latin_home, abroad))
    return out


# People: managers and executives of the supplier, a multinational sales force.
PERSON_NAMES: tuple[str, ...] = (
    "Giulia Bianchi", "Luca Romano", "Francesca Galli", "Matteo Ferri", "Sara Colombo",
    "Jonas Weber", "Katrin Vogel", "Stefan Brandt", "Camille Lefèvre", "Julien Moreau",
    "Lucía Navarro", "Javier Ortega", "Agnieszka Nowak", "Piotr Zieliński", "Emre Aydın",
    "Elif Şahin", "Omar Al-Masri", "سارة المنصوري", "Hannah Clarke", "James Whitfield",
    "Chen Wei", "Kenji Sato", "Nadia Benali", "Tomasz Wróbel",
)
"""Account managers. One name is in Arabic script, as the Gulf office enters it."""
