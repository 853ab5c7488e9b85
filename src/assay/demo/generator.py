"""A deterministic generator of realistic marketplace snapshots (FORMATS.md, version 1).

`generate(out, listings=..., seed=...)` writes a snapshot directory: fictional brands with
their marks, catalog and official photos; sellers with trader identities, among them rings
of counterfeiters who write their shared phone, e-mail, payment account or address
differently on each account; and listings in English and Chinese, of which a documented
share infringes (see docs/generator.md). With `labels`, it also writes the ground truth:
one line per listing saying whether it infringes, whose brand it is about and which
scenario produced it.

The generator models the world, not a detector: honest listings use the same words
("replica", "1:1", "正品", a brand that is an everyday word) that a naive detector keys on,
and infringing ones are written with the variety real sellers use.

Determinism: everything is drawn from `random.Random(seed)` (images from a generator
seeded with the seed and the image's path); nothing reads the clock, the environment or
the global random state, and JSON objects are written in a fixed key order. The same
seed and arguments give byte-identical files (images: with the same Pillow build).

Streaming: brands and sellers are held in memory (they are few: brands are capped at
10,000), listings are written one line at a time, so memory stays bounded however many
listings are asked for.
"""

from __future__ import annotations

import json
import random
import re
from bisect import bisect
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

__all__ = ["FX", "SCENARIOS", "GenerationSummary", "Scenario", "default_brand_count", "generate"]


# -- scenarios --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    infringing: bool
    weight: float  # per cent of the listings that carry photos; see docs/generator.md


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("blatant_counterfeit", True, 7.0),
    Scenario("disguised_mark", True, 4.5),
    Scenario("stolen_image", True, 4.5),
    Scenario("ring_member", True, 4.0),
    Scenario("authorized_reseller", False, 14.0),
    Scenario("second_hand", False, 8.0),
    Scenario("accessory", False, 8.0),
    Scenario("everyday_word", False, 5.0),
    Scenario("unbranded_cheap", False, 42.0),
    Scenario("innocent_replica", False, 3.0),
)
_INFRINGING = {s.name: s.infringing for s in SCENARIOS}

# US dollars per unit, as written to fx.json.
FX: dict[str, float] = {"CNY": 0.138, "EUR": 1.08, "GBP": 1.27, "JPY": 0.0067, "USD": 1.0}

# Listings with photos: every listing up to this many listings, then about this many in all.
PHOTO_LISTINGS = 20_000
MAX_BRANDS = 10_000

_SNAPSHOT_END = int(datetime(2026, 3, 1, tzinfo=timezone.utc).timestamp())
_LISTING_WINDOW = 2 * 365 * 86400
_UTC = timezone.utc
_CST = timezone(timedelta(hours=8))
_MARKET_TZ = {"taobao": _CST, "tmall": _CST, "jd": _CST, "bazaar": _UTC}
_CN_MARKETS = ("taobao", "tmall", "jd")


def default_brand_count(listings: int) -> int:
    return min(MAX_BRANDS, max(8, listings // 500))


# -- vocabulary -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cat:
    nouns: tuple[tuple[str, str], ...]  # (English, Chinese)
    msrp: tuple[float, float]  # USD, a brand's catalog range
    cheap: tuple[float, float]  # USD, generic goods
    adj: tuple[str, ...]


_CATS: dict[str, _Cat] = {
    "footwear": _Cat((("running shoe", "跑鞋"), ("sneaker", "板鞋"), ("trail shoe", "越野跑鞋"), ("loafer", "乐福鞋"),
                      ("hiking boot", "登山靴"), ("slide sandal", "拖鞋"), ("basketball shoe", "篮球鞋")),
                     (70, 260), (8, 35),
                     ("men's", "women's", "breathable", "lightweight", "non-slip", "casual", "mesh", "platform",
                      "canvas", "slip-on")),
    "bags": _Cat((("backpack", "双肩包"), ("tote bag", "托特包"), ("crossbody bag", "斜挎包"),
                  ("shoulder bag", "单肩包"), ("duffel bag", "旅行包"), ("wallet", "钱包"), ("card holder", "卡包")),
                 (60, 2800), (5, 30),
                 ("women's", "men's", "large capacity", "waterproof", "canvas", "PU leather", "mini", "travel",
                  "school", "vintage style")),
    "watches": _Cat((("automatic watch", "机械表"), ("chronograph", "计时码表"), ("dive watch", "潜水表"),
                     ("quartz watch", "石英表"), ("smartwatch", "智能手表")),
                    (120, 6500), (5, 25),
                    ("men's", "women's", "waterproof", "minimalist", "digital", "sports", "stainless steel",
                     "luminous")),
    "apparel": _Cat((("hoodie", "连帽卫衣"), ("T-shirt", "T恤"), ("down jacket", "羽绒服"), ("polo shirt", "Polo衫"),
                     ("track pants", "运动裤"), ("trench coat", "风衣"), ("cashmere sweater", "羊绒衫")),
                    (25, 900), (3, 25),
                    ("oversized", "cotton", "slim fit", "unisex", "casual", "thermal", "loose", "plus size")),
    "cosmetics": _Cat((("lipstick", "口红"), ("foundation", "粉底液"), ("face cream", "面霜"), ("serum", "精华液"),
                       ("eyeshadow palette", "眼影盘"), ("cushion compact", "气垫")),
                      (18, 140), (2, 12),
                      ("long lasting", "waterproof", "matte", "moisturizing", "natural", "vegan")),
    "fragrance": _Cat((("eau de parfum 50 ml", "香水 50ml"), ("eau de toilette 100 ml", "淡香水 100ml"),
                       ("perfume 30 ml", "香水 30ml"), ("body mist", "身体喷雾")),
                      (45, 260), (4, 15),
                      ("long lasting", "floral", "fresh", "woody", "unisex", "travel size")),
    "electronics": _Cat((("wireless earbuds", "无线耳机"), ("headphones", "头戴式耳机"), ("bluetooth speaker", "蓝牙音箱"),
                         ("power bank", "充电宝"), ("action camera", "运动相机"), ("tablet", "平板电脑")),
                        (40, 1100), (6, 40),
                        ("portable", "wireless", "rechargeable", "mini", "waterproof", "bluetooth 5.3")),
    "phone_accessories": _Cat((("phone case", "手机壳"), ("screen protector", "钢化膜"), ("charging cable", "数据线"),
                               ("wall charger", "充电头"), ("magnetic wallet", "磁吸卡包")),
                              (12, 80), (1, 10),
                              ("shockproof", "clear", "magnetic", "fast charging", "tempered glass", "braided")),
    "toys": _Cat((("building set", "积木"), ("action figure", "手办"), ("plush toy", "毛绒玩具"), ("RC car", "遥控车"),
                  ("puzzle", "拼图")),
                 (12, 180), (3, 25),
                 ("educational", "kids", "STEM", "soft", "DIY", "for toddlers")),
    "home": _Cat((("table lamp", "台灯"), ("throw pillow", "抱枕"), ("scented candle", "香薰蜡烛"),
                  ("cookware set", "锅具套装"), ("bath towel set", "浴巾套装"), ("vase", "花瓶")),
                 (20, 450), (3, 30),
                 ("nordic", "minimalist", "cotton", "ceramic", "LED", "handmade", "decorative")),
    "jewelry": _Cat((("pendant necklace", "项链"), ("bracelet", "手链"), ("stud earrings", "耳钉"), ("ring", "戒指")),
                    (60, 4000), (1.5, 15),
                    ("925 silver", "gold plated", "minimalist", "vintage", "adjustable", "hypoallergenic")),
    "eyewear": _Cat((("sunglasses", "太阳镜"), ("optical frames", "眼镜框"), ("ski goggles", "滑雪镜")),
                    (80, 450), (3, 15),
                    ("polarized", "UV400", "retro", "anti blue light", "oversized", "round")),
    "sporting_goods": _Cat((("tennis racket", "网球拍"), ("yoga mat", "瑜伽垫"), ("football", "足球"),
                            ("golf driver", "高尔夫球杆"), ("cycling helmet", "骑行头盔")),
                           (20, 550), (4, 30),
                           ("non-slip", "adjustable", "beginner", "lightweight", "professional", "outdoor")),
    "art": _Cat((("canvas print", "装饰画"), ("poster", "海报"), ("wall art", "挂画"), ("oil painting", "油画")),
                (30, 400), (5, 40), ("abstract", "landscape", "framed", "modern", "botanical")),
    "books": _Cat((("notebook", "笔记本"), ("sketchbook", "素描本"), ("coloring book", "涂色书"), ("planner", "手账本")),
                  (10, 60), (4, 25), ("A5", "hardcover", "dotted", "spiral")),
    "collectibles": _Cat((("enamel pin set", "徽章"), ("keychain", "钥匙扣"), ("figurine", "摆件"),
                          ("trading card sleeves", "卡套")),
                         (15, 200), (6, 60), ("cute", "metal", "resin", "anime style")),
}
BRAND_CATEGORIES: tuple[str, ...] = (
    "footwear", "bags", "watches", "apparel", "cosmetics", "fragrance", "electronics", "phone_accessories", "toys",
    "home", "jewelry", "eyewear", "sporting_goods",
)
TAXONOMY: tuple[str, ...] = BRAND_CATEGORIES + ("art", "books", "collectibles")
_CAT_WEIGHTS = (14, 12, 8, 12, 8, 6, 8, 5, 6, 7, 6, 4, 4)

_ZH_ADJ = ("新款", "百搭", "ins风", "韩版", "简约", "网红", "学生", "大容量", "高颜值", "便携", "男女同款", "潮流")

# Brands that are everyday words, each with ways the word is used as a word, and where.
EVERYDAY_WORDS: dict[str, tuple[tuple[str, str], ...]] = {
    "Apex": (("apex predator shark plush toy", "toys"), ("apex predator graphic tee", "apparel"),
             ("apex roof ridge vent cap", "home")),
    "Harbor": (("harbor view canvas print", "home"), ("harbor seal plush toy", "toys"),
               ("harbor blue linen shirt", "apparel")),
    "Oak": (("solid oak cutting board", "home"), ("oak leaf stud earrings 925 silver", "jewelry"),
            ("oak frame wooden sunglasses", "eyewear")),
    "Meridian": (("meridian acupressure massage mat", "home"), ("prime meridian world map poster", "art")),
    "Polar": (("polar fleece jacket", "apparel"), ("polar bear plush toy", "toys"),
              ("polar night star projector lamp", "home")),
    "Summit": (("summit trekking poles, pair", "sporting_goods"), ("mountain summit wall art", "art")),
    "Anchor": (("anchor pendant necklace", "jewelry"), ("drywall anchor screws 100 pcs", "home"),
               ("anchor print beach towel", "home")),
    "Willow": (("willow picnic basket with lid", "home"), ("weeping willow tree figurine", "collectibles")),
    "Falcon": (("falcon feather earrings", "jewelry"), ("peregrine falcon model kit", "toys")),
    "Ember": (("ember orange knit beanie", "apparel"), ("ember glow LED candles set", "home")),
    "Atlas": (("world atlas for kids, hardcover", "books"), ("atlas moth specimen in frame", "collectibles")),
    "Coral": (("coral fleece blanket", "home"), ("coral pink satin lipstick", "cosmetics"),
              ("coral reef aquarium decoration", "home")),
    "Birch": (("birch plywood sheets 3mm, 10 pack", "home"), ("birch bark candle holder", "home")),
    "Crest": (("family crest signet ring", "jewelry"), ("wave crest wall print", "art")),
    "Tide": (("tide clock, wall mounted", "home"), ("tide pool explorer kit for kids", "toys")),
    "Orbit": (("solar system orbit mobile for nursery", "toys"), ("orbit sander sanding discs 125mm", "home")),
    "Maple": (("maple leaf brooch", "jewelry"), ("maple wood chopping board", "home")),
    "Cedar": (("cedar shoe trees, pair", "footwear"), ("cedar wood hangers 10 pack", "home")),
    "Compass": (("hiking compass with lanyard", "sporting_goods"), ("compass rose pendant", "jewelry"),
                ("drawing compass set for students", "books")),
    "Beacon": (("emergency beacon light", "electronics"), ("lighthouse beacon night light", "home")),
    "Glacier": (("glacier blue phone case", "phone_accessories"), ("glacier national park poster", "art")),
    "Horizon": (("horizon line abstract canvas painting", "art"), ("horizon blue bath towel", "home")),
    "Lotus": (("lotus flower incense holder", "home"), ("lotus pose yoga mat", "sporting_goods")),
    "Monarch": (("monarch butterfly wings costume", "toys"), ("monarch butterfly garden stakes", "home")),
    "Pebble": (("river pebble bath mat", "home"), ("pebble grey hoodie", "apparel")),
    "Sterling": (("sterling silver hoop earrings", "jewelry"), ("sterling silver chain necklace 45cm", "jewelry")),
    "Timber": (("timber frame birdhouse", "home"), ("timber wolf plush toy", "toys")),
    "Vista": (("mountain vista jigsaw puzzle 1000 pieces", "toys"),),
    "Onyx": (("black onyx bead bracelet", "jewelry"), ("onyx marble coasters set of 4", "home")),
    "Velvet": (("velvet scrunchies 6 pack", "apparel"), ("velvet cushion cover 45x45", "home"),
               ("velvet matte lipstick", "cosmetics")),
    "Ivory": (("ivory lace wedding veil", "apparel"), ("ivory linen tablecloth", "home")),
    "Raven": (("raven skull halloween decor", "home"), ("raven black hair dye", "cosmetics")),
    "Prism": (("crystal prism suncatcher", "home"), ("glass prism for photography", "electronics")),
    "Mosaic": (("mosaic glass tiles 500g", "home"), ("turkish mosaic table lamp", "home")),
    "Juniper": (("juniper bonsai tree starter kit", "home"), ("juniper berry essential oil", "cosmetics")),
    "Aspen": (("aspen leaf earrings", "jewelry"), ("aspen grove canvas print", "art")),
    "Canyon": (("grand canyon landscape poster", "art"), ("canyon brown suede chelsea boots", "footwear")),
    "Cobalt": (("cobalt blue glass vase", "home"), ("cobalt drill bit set 19 pcs", "home")),
    "Granite": (("granite mortar and pestle", "home"),),
    "Bloom": (("bloom flower hair clips", "apparel"), ("full bloom peony canvas print", "art")),
    "Arrow": (("arrow necklace, minimalist", "jewelry"), ("carbon archery arrow shafts, 12 pack", "sporting_goods")),
    "Saga": (("viking saga board game", "toys"), ("norse saga book box set", "books")),
    "Nimbus": (("nimbus cloud night light", "home"),),
    "Wren": (("wren birdhouse, hanging", "home"),),
    "Thistle": (("scottish thistle brooch", "jewelry"),),
    "Kite": (("rainbow kite for kids", "toys"), ("delta kite 1.5m with line", "toys")),
    "Sable": (("sable hair paint brushes set", "art"),),
    "Umber": (("burnt umber oil paint 200ml", "art"),),
    "Mint": (("mint green silicone phone case", "phone_accessories"), ("mint chocolate lip balm", "cosmetics")),
    "Crown": (("princess crown tiara for kids", "toys"), ("crown molding corner blocks", "home")),
    "Pearl": (("freshwater pearl stud earrings", "jewelry"), ("pearl white nail polish", "cosmetics")),
    "Slate": (("slate coasters set of 4", "home"), ("slate grey chino trousers", "apparel")),
}
_EVERYDAY_USD = {"home": (8, 60), "toys": (6, 40), "apparel": (8, 45), "jewelry": (5, 60), "eyewear": (10, 40),
                 "sporting_goods": (8, 50), "collectibles": (10, 80), "books": (6, 30), "cosmetics": (3, 18),
                 "art": (6, 70), "footwear": (20, 90), "electronics": (8, 40), "phone_accessories": (3, 15)}

_LINES = ("Stride", "Voyager", "Nuit", "Aurora", "Vector", "Pulse", "Drift", "Luma", "Terra", "Nova", "Flux", "Halo",
          "Vela", "Strata", "Kinetic", "Solace", "Ardent", "Cirrus", "Lyric", "Nomad", "Ion", "Zephyr", "Rally",
          "Crux", "Tempo", "Orbis", "Vantage", "Serene", "Astra", "Lumen", "Cadence", "Boreal", "Sierra", "Dune",
          "Quartz", "Regent", "Soleil", "Vireo", "Axis", "Marlin")
_LINE_SUFFIX = ("", "", "", " 1", " 2", " 3", " 5", " 7", " X", " Pro", " Lite", " II", " 2.0", " Max", " Mini",
                " S", " 90", " Classic", " GT", " Air")

_ONSETS = ("qu", "t", "v", "z", "k", "l", "m", "n", "s", "br", "cr", "dr", "fl", "gl", "pr", "st", "tr", "x", "r",
           "d", "f", "g", "h", "j", "p", "sh", "ch", "th", "b", "c")
_VOWELS = ("a", "e", "i", "o", "u", "ae", "io", "ou", "y", "ea", "a", "e", "o")
_CODAS = ("", "", "", "r", "n", "x", "l", "s", "v", "rn", "nd", "st", "rv", "lt")
_SUFFIXES = ("ex", "ine", "ara", "ion", "ia", "elle", "ora", "ix", "ane", "eon", "is", "o", "a", "en", "ique",
             "ova", "ium", "ent", "ette", "aro", "al", "yn")
_ACRONYM_STOP = frozenset({"AAA", "USB", "LED", "DIY", "RC", "PU", "UV", "NEW", "HOT", "TOP", "OEM", "UA", "AA",
                           "ML", "CM", "PCS", "SET", "GPS", "VIP", "BAG", "BOX", "SUV", "TV", "PC", "GT", "II",
                           "XL", "XXL", "SOS", "DJ", "OK", "NO", "FAQ", "USA", "UK", "EU", "CN", "ZH", "EN",
                           "STEM", "REP", "MAX", "PRO", "AIR", "SEX", "ASS", "GOD", "NAZI"})

_OWNER_TEMPLATES = ("{n} Sports Ltd", "Maison {n} SA", "{n} Holdings Inc.", "{n} GmbH", "{n} Co., Ltd.",
                    "{n} Brands LLC", "{n} International AG", "{n} Group plc", "{n} & Co. KG", "{n} Beauty SAS",
                    "{n} Design AB", "{n} Industries Ltd", "{n} Corporation", "{n} S.p.A.")
_OWNER_UNRELATED = ("Nordhavn Consumer Brands AB", "Veldt & Marrow Group plc", "Halvorsen Retail Holdings AS",
                    "Kestrel Brand Partners LLC", "Orlov Lifestyle Group GmbH", "Sunhe Consumer Goods Co., Ltd.",
                    "Brightwater Licensing Ltd", "Castellane Luxury SA", "Takamori Holdings K.K.",
                    "Fairmount Apparel Group Inc.")

_REPLICA_EN = ("replica", "Replica", "AAA", "AAA+", "1:1", "1:1 mirror quality", "mirror quality", "super copy",
               "top quality copy", "high copy", "UA quality", "best replica", "rep", "reps", "1:1 copy",
               "super fake", "Top AAA Replica", "REPLICA", "mirror grade", "clone")
_REPLICA_ZH = ("高仿", "复刻", "原单", "A货", "1:1", "顶级复刻", "精仿", "超A", "纯原", "高版本", "一比一", "高仿原单")
_BLATANT_DESC_EN = ("Top quality, same as original.", "Comes with box, dust bag and receipt.",
                    "1:1 copy, you can not tell the difference.", "Mirror quality, best version on the market.",
                    "AAA quality, factory direct.", "Contact us for more pictures.",
                    "We ship worldwide, discreet packaging.", "All logos and tags as original.",
                    "Same materials as the original.")
_BLATANT_DESC_ZH = ("原厂面料 细节对比专柜", "支持验货 不满意包退", "顶级版本 做工一比一", "原单尾货 数量有限",
                    "和专柜一模一样 放心购买", "配全套包装 防尘袋 小票", "高品质复刻 懂货的来", "细节图私聊")
_DISGUISED_DESC_EN = ("DM for real pics.", "Same factory as the big brand.", "Best quality, check the photos.",
                      "Logo as shown.", "Read description before buying.", "Name hidden due to platform rules.",
                      "Ask for details.", "You know what it is.")
_DISGUISED_DESC_ZH = ("懂的来", "大牌同款", "专柜品质", "品牌不方便写 懂的私聊", "看图 实物拍摄", "同厂出货", "细节私聊")
_DISGUISED_EXTRA_EN = ("best quality", "style", "inspired", "top version", "hot", "same factory", "original box")
_DISGUISED_EXTRA_ZH = ("大牌同款", "专柜品质", "懂的来", "同厂", "顶级", "私聊")
_RING_DESC_EN = ("100% authentic, warehouse clearance.", "New with tags.", "Brand new, never used.",
                 "Limited stock at factory price.", "Ships from our warehouse in 24h.", "Genuine, with receipt.")
_RING_DESC_ZH = ("专柜正品 假一赔十", "清仓特价", "工厂直销", "全新带吊牌", "官方同款 品质保证", "库存有限")
_AUTH_DESC_EN = ("Authorized retailer. Full manufacturer warranty.", "Genuine product shipped from our warehouse.",
                 "Official store.", "Free returns within 30 days.", "Invoice included.",
                 "Ships in original packaging.")
_AUTH_DESC_ZH = ("官方授权 正品保障", "专柜正品 支持验货", "官方旗舰店 七天无理由退换", "全国联保", "提供发票")
_USED_COND_EN = ("good condition", "excellent condition", "mint condition", "like new", "worn twice", "some wear",
                 "great condition", "fair condition", "lightly used")
_USED_COND_ZH = ("9成新", "95新", "99新", "8成新", "几乎全新", "有使用痕迹")
_USED_DESC_EN = ("Worn a few times, minor scuffs.", "Used for one season, good condition.",
                 "Original box not included.", "Comes with original receipt.", "Some signs of wear, see photos.",
                 "Smoke-free home.", "Selling because I no longer use it.", "Bought at the flagship store in 2023.")
_USED_DESC_ZH = ("自用闲置 九成新", "有轻微使用痕迹 介意勿拍", "专柜购入 可验", "无盒 配件齐全", "闲置转让 非诚勿扰",
                 "买来没怎么用")
_ACC_DESC_EN = ("Not affiliated with or endorsed by {brand}.", "Brand name used for compatibility only.",
                "Fits {brand} {line} and similar models.", "Third-party accessory.", "Easy to install.")
_ACC_DESC_ZH = ("非原装 第三方配件", "仅适配 非官方产品", "安装简单", "兼容{brand} {line}")
_GENERIC_DESC_EN = ("Good quality for the price.", "Multiple colours available.", "Ships in 48 hours.",
                    "Please allow 1-2 cm measuring error.", "Colours may vary slightly due to screen settings.",
                    "Wholesale welcome.", "Satisfaction guaranteed.")
_GENERIC_DESC_ZH = ("多色可选", "质量好 价格实惠", "48小时内发货", "手工测量 存在1-2cm误差",
                    "因拍摄光线问题 颜色可能略有差异", "支持批发")
_INNOCENT_DESC = {
    "model": (("Perfect for collectors and display.", "Not a toy, for adult collectors.", "Opening doors and bonnet.",
               "Faithful replica of the original.", "Die-cast metal with rubber tyres."),
              ("收藏摆件", "做工精细 适合收藏", "合金材质 车门可开", "送礼收藏佳品")),
    "print": (("Museum-quality reproduction.", "Printed on archival paper.", "Frame not included.",
               "Giclee print on matte paper."),
              ("博物馆复制品", "高清微喷 不含画框", "做工精细 适合收藏")),
    "object": (("Perfect for collectors and display.", "Hand-painted details.", "Faithful replica of the original.",
                "For display only.", "Great for teaching and museums."),
               ("收藏摆件", "教学模型", "做工精细 适合收藏", "仅供展示")),
}
_EXTRAS_EN = ("free shipping", "fast delivery", "hot sale", "2025 new", "limited stock", "best seller",
              "gift for him", "gift for her", "in stock", "ship today", "with box", "sale", "new arrival")
_EXTRAS_ZH = ("包邮", "现货", "新款", "爆款", "限时特价", "送礼", "顺丰", "当天发货", "热卖", "秒发")
_EMOJI = ("🔥", "✨", "💯", "⭐", "❤️", "🎁", "✅", "⚡", "👍", "🆕")
_SEPARATORS = (" ", " ", " ", " ", " ", " | ", " - ", ", ", " / ", "  ")

# Look-alike letters: Cyrillic and Greek capitals and small letters that render like Latin ones.
_HOMOGLYPHS = {
    "A": "АΑ", "B": "ВΒ", "C": "С", "E": "ЕΕ", "H": "НΗ", "I": "ІΙ", "K": "КΚ", "M": "МΜ", "N": "Ν", "O": "ОΟ",
    "P": "РΡ", "S": "Ѕ", "T": "ТΤ", "X": "ХΧ", "Y": "Υ", "Z": "Ζ",
    "a": "а", "c": "с", "e": "е", "i": "і", "o": "оο", "p": "р", "s": "ѕ", "x": "х", "y": "у", "v": "ν",
}
_LEET = {"O": "0", "o": "0", "E": "3", "e": "3", "A": "4", "a": "4", "I": "1", "i": "1", "S": "5", "s": "5",
         "T": "7", "t": "7", "B": "8", "G": "9", "l": "1"}

# (title, category, USD range, language, kind of description)
_INNOCENT = (
    ("1:18 scale diecast replica {vyear} {vehicle} model car", "collectibles", (25, 120), "en", "model"),
    ("1:43 die-cast {vehicle} {vyear} replica, display case included", "collectibles", (15, 60), "en", "model"),
    ("1:87 {vehicle} replica, HO scale", "collectibles", (12, 45), "en", "model"),
    ("Replica of {myear} antique map of {region}, vintage print", "art", (12, 80), "en", "print"),
    ("Museum reproduction print: {painting}", "art", (15, 90), "en", "print"),
    ("{weapon} prop replica for cosplay, wall display", "collectibles", (30, 180), "en", "object"),
    ("1:1 scale Roman legionary helmet replica, steel", "collectibles", (60, 220), "en", "object"),
    ("Replica Roman coin set of 12, educational", "collectibles", (10, 35), "en", "object"),
    ("T-rex tooth fossil replica, resin cast", "collectibles", (8, 30), "en", "object"),
    ("Replica {pyear} vintage travel poster, {region}", "art", (10, 45), "en", "print"),
    ("Victorian pocket watch replica, non-working display piece", "collectibles", (10, 40), "en", "object"),
    ("1:18 合金车模 {vyear}经典{vehicle_zh} 复刻收藏", "collectibles", (25, 120), "zh", "model"),
    ("古董地图复制品 {myear}年 世界地图 装饰画", "art", (12, 80), "zh", "print"),
    ("博物馆复刻 {painting_zh} 装饰画", "art", (15, 90), "zh", "print"),
    ("恐龙化石复制品 霸王龙牙齿 教学标本", "collectibles", (8, 30), "zh", "object"),
    ("复刻版 经典掌上游戏机 怀旧 内置400款游戏", "electronics", (15, 45), "zh", "object"),
    ("1:1 古罗马头盔 复制品 道具 摆件", "collectibles", (60, 220), "zh", "object"),
)
_VEHICLES = (("roadster", "跑车"), ("coupe", "轿跑"), ("grand tourer", "跑车"), ("rally car", "拉力赛车"),
             ("pickup truck", "皮卡"), ("fire engine", "消防车"), ("steam locomotive", "蒸汽机车"),
             ("double-decker bus", "双层巴士"))
_REGIONS = ("Asia", "the Americas", "Europe", "the world", "the East Indies", "Africa", "the Mediterranean")
_PAINTINGS = (("The Great Wave", "神奈川冲浪里"), ("Starry Night", "星月夜"), ("Sunflowers", "向日葵"),
              ("Irises", "鸢尾花"), ("Along the River During the Qingming Festival", "清明上河图"),
              ("Water Lilies", "睡莲"))
_WEAPONS = ("Medieval longsword", "Viking axe", "Samurai katana", "Elven dagger", "Pirate flintlock pistol",
            "Spartan shield")

_ACCESSORIES: dict[str, tuple[tuple[str, str, str, tuple[float, float]], ...]] = {
    "footwear": (("replacement laces", "替换鞋带", "footwear", (3, 12)), ("cushioned insoles", "鞋垫", "footwear", (5, 20)),
                 ("shoe cleaning kit", "洗鞋套装", "footwear", (6, 18)),
                 ("anti-crease toe guards", "防皱鞋撑", "footwear", (3, 10))),
    "bags": (("bag organizer insert", "内胆包", "bags", (8, 25)), ("replacement shoulder strap", "替换肩带", "bags", (6, 30)),
             ("rain cover", "防雨罩", "bags", (4, 12))),
    "watches": (("replacement strap", "替换表带", "watches", (5, 30)),
                ("screen protector", "保护膜", "phone_accessories", (2, 8)),
                ("charging dock", "充电座", "electronics", (6, 20)), ("watch winder", "摇表器", "watches", (25, 90))),
    "apparel": (("replacement buttons set", "替换纽扣", "apparel", (2, 8)), ("garment bag", "防尘袋", "home", (4, 14))),
    "cosmetics": (("refillable compact case", "替换粉盒", "cosmetics", (4, 15)),
                  ("makeup organizer", "收纳盒", "home", (8, 30))),
    "fragrance": (("refill atomizer", "分装瓶", "fragrance", (3, 12)),
                  ("perfume display stand", "香水展示架", "home", (10, 35))),
    "electronics": (("charging cable", "充电线", "phone_accessories", (3, 15)),
                    ("protective case", "保护套", "electronics", (5, 25)), ("ear tips", "耳塞套", "electronics", (2, 9)),
                    ("wall charger", "充电器", "phone_accessories", (6, 25)),
                    ("remote control", "遥控器", "electronics", (5, 20))),
    "phone_accessories": (("replacement cable", "替换线", "phone_accessories", (3, 12)),
                          ("carrying pouch", "收纳袋", "phone_accessories", (2, 9))),
    "toys": (("display case", "展示盒", "toys", (10, 45)), ("replacement parts pack", "配件包", "toys", (3, 15)),
             ("storage box", "收纳箱", "home", (8, 25))),
    "home": (("replacement cover", "替换套", "home", (5, 20)), ("spare parts kit", "配件包", "home", (3, 15)),
             ("storage bag", "收纳袋", "home", (4, 15))),
    "jewelry": (("extension chain", "延长链", "jewelry", (2, 10)), ("jewelry box", "首饰盒", "home", (8, 30)),
                ("polishing cloth", "擦银布", "jewelry", (1, 6))),
    "eyewear": (("replacement lenses", "替换镜片", "eyewear", (8, 40)), ("hard case", "眼镜盒", "eyewear", (3, 12)),
                ("nose pads", "鼻托", "eyewear", (1, 5))),
    "sporting_goods": (("replacement grip", "手胶", "sporting_goods", (3, 12)),
                       ("protective cover", "保护套", "sporting_goods", (5, 20))),
}
_ACC_EN = ("{noun} for {mark} {line}", "Compatible with {mark} {line} {pnoun} - {noun}",
           "{noun} compatible with {mark} {line}", "{noun}, fits {mark} {line} {pnoun}", "For {mark} {line}: {noun}",
           "{adj} {noun} for {mark} {line} {pnoun}", "{noun} for {mark} {pnoun}", "Fits {mark} {line} - {adj} {noun}",
           "{noun} replacement for {mark} {line} {pnoun}")
_ACC_ZH = ("适用于{mark} {line} {znoun}", "{mark} {line}专用 {znoun}", "{znoun} 适配{mark} {line}",
           "{mark} {line} {pznoun} {znoun} 替换", "适用{mark}{pznoun} {znoun} {zadj}")
_BLATANT_EN = ("{mark} {line} {pnoun} {rep}", "{rep} {mark} {line} {pnoun}", "{mark} {pnoun} {rep} {rep2}",
               "{rep} {mark} {pnoun} {line} {adj}", "{mark} {line} {rep} {pnoun} w/ box",
               "{adj} {mark} {line} {pnoun} ({rep})", "{mark} {line} {pnoun} - {rep}")
_BLATANT_ZH = ("{rep}{mark} {line} {pznoun} {rep2}", "{mark} {rep} {pznoun} {line}", "{mark} {line} {pznoun} {rep}",
               "{rep} {mark} {pznoun} {zadj}", "{mark} {line} {pznoun} {rep}版本")
_DISGUISED_EN = ("{dmark} {line} {pnoun}", "{dmark} {pnoun} {extra}", "{adj} {dmark} {line} {pnoun} {extra}",
                 "{pnoun} {dmark} {extra}", "{dmark} {line} {pnoun} {rep}")
_DISGUISED_ZH = ("{dmark} {line} {pznoun} {zextra}", "{zextra} {dmark}{pznoun}", "{dmark} {pznoun} {zadj} {zextra}")
_RING_EN = ("{mark} {line} {pnoun} new with tags", "{mark} {pnoun} {line} factory price",
            "Genuine {mark} {line} {pnoun} - clearance", "{mark} {line} {pnoun} 100% authentic",
            "{mark} {line} {adj} {pnoun}", "{pnoun} {mark} style {line}", "{mark} {line} {pnoun} outlet sale")
_RING_ZH = ("{mark} {line} {pznoun} 清仓特价", "{mark}同款 {pznoun} 工厂直销", "专柜正品 {mark} {pznoun} 假一赔十",
            "{mark} {line} {pznoun} 全新带吊牌", "正品 {mark} {line} {pznoun} {zadj}")
_AUTH_EN = ("{mark} {line} {pnoun}", "{mark} {line} {pnoun} - Official Store", "{mark} {line} {pnoun} | Authorized Retailer",
            "Genuine {mark} {line} {pnoun}", "{mark} {line} {pnoun}, {variant}", "NEW {mark} {line} {pnoun} {year}",
            "{mark} {pnoun} {line} ({variant})")
_AUTH_ZH = ("{mark} {line} {pznoun} 官方正品", "【官方旗舰店】{mark} {line} {pznoun}", "{mark}官方 {line} {pznoun} 专柜同款",
            "正品{mark} {line} {pznoun} 新款", "{mark} {line} {pznoun} {zadj} 官方授权")
_USED_EN = ("Used {mark} {line} {pnoun}", "Pre-owned {mark} {line} {pnoun} - {cond}", "{mark} {line} {pnoun} (used, {cond})",
            "{mark} {pnoun} {line} pre-loved", "Second hand {mark} {line} {pnoun}, {cond}",
            "{mark} {line} {pnoun} {size} {cond}", "Preowned {mark} {pnoun}")
_USED_ZH = ("二手 {mark} {line} {pznoun} {zcond}", "闲置 {mark}{pznoun} {zcond} 转让", "{mark} {line} {pznoun} {zcond} 自用闲置",
            "出 {mark} {pznoun} {zcond}", "二手{mark} {pznoun} {line} {zsize}")
_STOLEN_MARK_EN = ("{mark} {line} {pnoun} sale", "{mark} {line} {adj} {pnoun}", "{adj} {mark} {pnoun} {line}",
                   "{mark} {pnoun} {line} {extra}")
_STOLEN_MARK_ZH = ("{mark} {line} {pznoun} 特价", "{mark}{pznoun} {zadj} {zextra}")
_STOLEN_PLAIN_EN = ("{adj} {adj2} {pnoun}", "{adj} {pnoun} {line}", "{pnoun} {adj} {extra}", "{adj} {pnoun}, {adj2}")
_STOLEN_PLAIN_ZH = ("{zadj} {pznoun} {zadj2}", "{pznoun} {zadj} {zextra}", "{zadj}{pznoun}")
_GENERIC_EN = ("{adj} {adj2} {noun}", "{adj} {noun} {extra}", "{noun} {adj} {adj2}", "{qty} {adj} {noun}",
               "{adj} {noun}, {adj2}", "{noun} for {who} {adj}")
_GENERIC_ZH = ("{zadj} {znoun} {zadj2}", "{znoun} {zadj} {zextra}", "{zadj}{zadj2}{znoun}", "{zextra} {zadj} {znoun}")
_WHO = ("men", "women", "kids", "teens", "home", "office", "travel")
_VARIANTS = ("black", "white", "navy", "size M", "size 42", "size 38", "EU 41", "one size", "graphite", "sand")

_CITIES_ZH = (("深圳", "Shenzhen", "广东省", "Guangdong"), ("广州", "Guangzhou", "广东省", "Guangdong"),
              ("义乌", "Yiwu", "浙江省", "Zhejiang"), ("杭州", "Hangzhou", "浙江省", "Zhejiang"),
              ("莆田", "Putian", "福建省", "Fujian"), ("泉州", "Quanzhou", "福建省", "Fujian"),
              ("东莞", "Dongguan", "广东省", "Guangdong"), ("上海", "Shanghai", "上海市", "Shanghai"))
_DISTRICTS = (("福田区", "Futian"), ("南山区", "Nanshan"), ("白云区", "Baiyun"), ("越秀区", "Yuexiu"),
              ("荔城区", "Licheng"), ("鲤城区", "Licheng"), ("西湖区", "Xihu"), ("长安镇", "Chang'an"))
_STREETS = (("华强", "Huaqiang"), ("人民", "Renmin"), ("解放", "Jiefang"), ("建设", "Jianshe"), ("中山", "Zhongshan"),
            ("滨海", "Binhai"), ("工业", "Gongye"), ("科技", "Keji"), ("商贸", "Shangmao"), ("东风", "Dongfeng"))
_DIRECTIONS = (("北", "North"), ("南", "South"), ("东", "East"), ("西", "West"), ("", ""))
_WEST_CITIES = (("London", "UK"), ("Manchester", "UK"), ("New York", "US"), ("Los Angeles", "US"),
                ("Berlin", "DE"), ("Hamburg", "DE"))
_WEST_STREETS = ("Baker", "Station", "Mill", "Church", "Market", "Oak Tree", "Victoria", "Harrow", "Linden",
                 "Elm", "Garden", "Kings")
_SURNAMES_ZH = (("Wang", "王"), ("Li", "李"), ("Zhang", "张"), ("Liu", "刘"), ("Chen", "陈"), ("Yang", "杨"),
                ("Huang", "黄"), ("Zhao", "赵"), ("Wu", "吴"), ("Zhou", "周"), ("Lin", "林"), ("Xu", "徐"))
_GIVEN_ZH = (("Wei", "伟"), ("Fang", "芳"), ("Na", "娜"), ("Min", "敏"), ("Jing", "静"), ("Lei", "磊"),
             ("Qiang", "强"), ("Yang", "洋"), ("Jie", "杰"), ("Xiuying", "秀英"), ("Hao", "浩"), ("Ting", "婷"))
_FIRST_W = ("Emily", "James", "Sophie", "Daniel", "Laura", "Michael", "Anna", "Thomas", "Olivia", "Lukas", "Sarah",
            "David", "Jonas", "Hannah")
_LAST_W = ("Clarke", "Miller", "Schmidt", "Walker", "Fischer", "Turner", "Evans", "Becker", "Hughes", "Wright",
           "Meyer", "Price")
_TRADE_ZH = ("华信", "鑫源", "恒达", "宏图", "博远", "金诚", "盛世", "优品", "天成", "汇丰达", "嘉禾", "鸿运")
_TRADE_EN = ("Huaxin", "Xinyuan", "Hengda", "Hongtu", "Boyuan", "Jincheng", "Shengshi", "Youpin", "Tiancheng",
             "Jiahe", "Hongyun", "Ruitai")
_STORE_EN_A = ("Best", "Top", "Global", "Happy", "Lucky", "Urban", "Daily", "Smart", "Prime", "Golden", "Star",
               "Royal", "Trendy", "Super", "Easy", "Fresh", "Blue Sky", "Sunny")
_STORE_EN_B = ("Deals", "Outlet", "Store", "Shop", "Mall", "Trading", "Goods", "Market", "Corner", "Express",
               "Boutique", "House", "Depot", "World")
_STORE_ZH_A = ("优选", "潮流", "精品", "好物", "百货", "生活", "时尚", "小铺", "工厂", "品牌折扣", "旗舰", "严选")
_STORE_ZH_B = ("店", "小店", "专营店", "商行", "百货", "优品店", "工作室", "批发")
_NICK = ("cici", "momo", "xiaoyu", "lulu", "tangtang", "kiki", "dodo", "yoyo", "nana", "mimi", "jojo", "bobo")


# -- public result ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationSummary:
    """What a generation wrote: record counts per file, listings per scenario, the rings."""

    out: Path
    files: dict[str, int]  # file in out -> records; "images" -> image files; "labels" -> label lines
    scenarios: dict[str, int]  # scenario name -> listings, in SCENARIOS order
    rings: tuple[tuple[str, ...], ...] = ()  # seller ids of each counterfeit ring
    exposed_rings: tuple[int, ...] = ()  # indexes into rings: rings with a banned member

    @property
    def listings(self) -> int:
        return self.files.get("listings.jsonl", 0)

    @property
    def images(self) -> int:
        return self.files.get("images", 0)

    @property
    def infringing(self) -> int:
        return sum(n for name, n in self.scenarios.items() if _INFRINGING[name])


# -- internal world ---------------------------------------------------------------------------


@dataclass
class _Product:
    sku: str
    title: str
    category: str
    line: str
    noun: str
    noun_zh: str
    msrp: float | int
    currency: str
    usd: float
    images: list[str] = field(default_factory=list)


@dataclass
class _Brand:
    brand_id: str
    name: str
    everyday: bool
    marks: list[str]
    acronym: str | None
    owner: str
    categories: list[str]
    colours: tuple[tuple[int, int, int], tuple[int, int, int]]
    products: list[_Product] = field(default_factory=list)
    authorized: list[str] = field(default_factory=list)
    usages: tuple[tuple[str, str], ...] = ()  # everyday uses outside the registered categories


@dataclass
class _Seller:
    role: str
    marketplace: str
    store_name: str
    reg: int
    status: str
    identity: dict[str, str | None]
    ring: int = -1
    brand: int = -1  # flagship store of this brand index
    seller_id: str = ""


def _word_tokens(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.casefold())


def _vocabulary() -> frozenset[str]:
    words: set[str] = set()
    for cat in _CATS.values():
        for en, _zh in cat.nouns:
            words.update(_word_tokens(en))
        for a in cat.adj:
            words.update(_word_tokens(a))
    for table in (_REPLICA_EN, _EXTRAS_EN, _LINES, _WHO, _VARIANTS, _USED_COND_EN, _STORE_EN_A, _STORE_EN_B,
                  _DISGUISED_EXTRA_EN, _REGIONS, _WEAPONS, TAXONOMY):
        for text in table:
            words.update(_word_tokens(text))
    for phrases in EVERYDAY_WORDS.values():
        for text, _cat in phrases:
            words.update(_word_tokens(text))
    for accs in _ACCESSORIES.values():
        for en, _zh, _c, _r in accs:
            words.update(_word_tokens(en))
    for t, *_rest in _INNOCENT:
        words.update(_word_tokens(t))
    for en, _zh in _VEHICLES:
        words.update(_word_tokens(en))
    words.update(w.casefold() for w in EVERYDAY_WORDS)
    return frozenset(words)


_VOCAB = _vocabulary()


class _World:
    def __init__(self, seed: int, listings: int, brands: int, images: bool) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self._r = self.rng.random
        self.n = listings
        self.n_brands = brands
        self.images = images
        self.brands: list[_Brand] = []
        self.sellers: list[_Seller] = []
        self.rings: list[list[int]] = []
        self.exposed: list[int] = []
        self._used: dict[str, set[str]] = {k: set() for k in ("phone", "email", "pay", "addr", "tax", "acr", "name")}

    # small helpers ----------------------------------------------------------------------

    def pick(self, seq: Any) -> Any:
        return seq[int(self._r() * len(seq))]

    def skewed(self, seq: Any, power: float = 1.8) -> Any:
        """A few items are picked far more often than the rest (popular brands, busy sellers)."""
        return seq[int((self._r() ** power) * len(seq))]

    def uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self._r()

    def loguniform(self, lo: float, hi: float) -> float:
        return lo * (hi / lo) ** self._r()

    def chance(self, p: float) -> bool:
        return self._r() < p

    def digits(self, n: int) -> str:
        return "".join(str(int(self._r() * 10)) for _ in range(n))

    # brands -----------------------------------------------------------------------------

    def _coined_name(self) -> str:
        while True:
            parts = [self.pick(_ONSETS) + self.pick(_VOWELS) + self.pick(_CODAS)
                     for _ in range(1 if self.chance(0.45) else 2)]
            if self.chance(0.6) or len(parts) == 1:
                parts.append(self.pick(_SUFFIXES))
            name = "".join(parts)
            if not 5 <= len(name) <= 10 or re.search(r"(.)\1\1", name) or re.search(r"[aeiouy]{3}", name):
                continue
            name = name[0].upper() + name[1:]
            key = name.casefold()
            if key in _VOCAB or key in self._used["name"]:
                continue
            self._used["name"].add(key)
            return name

    def _acronym(self, name: str) -> str | None:
        letters = name.upper()
        consonants = [c for c in letters[1:] if c not in "AEIOUY"]
        for _ in range(6):
            size = 2 if self.chance(0.2) else (4 if self.chance(0.15) else 3)
            if len(consonants) < size - 1:
                return None
            picked = sorted(self.rng.sample(range(len(consonants)), size - 1))
            acr = letters[0] + "".join(consonants[i] for i in picked)
            if acr not in _ACRONYM_STOP and acr.casefold() not in _VOCAB and acr not in self._used["acr"]:
                self._used["acr"].add(acr)
                return acr
        return None

    def _colour(self, dark: bool) -> tuple[int, int, int]:
        if dark:
            return (int(self.uniform(10, 150)), int(self.uniform(10, 150)), int(self.uniform(10, 170)))
        return (int(self.uniform(150, 250)), int(self.uniform(120, 245)), int(self.uniform(60, 240)))

    def _categories(self) -> list[str]:
        k = 1 if self.chance(0.5) else (2 if self.chance(0.7) else 3)
        cats: list[str] = []
        while len(cats) < k:
            c = self.rng.choices(BRAND_CATEGORIES, weights=_CAT_WEIGHTS)[0]
            if c not in cats:
                cats.append(c)
        return cats

    def _price_in(self, usd: float, currency: str) -> float | int:
        """A price as shops write it, in the currency: 149.00, 99.99, 1280 yen, 199 yuan."""
        amount = usd / FX[currency]
        if currency == "JPY":
            step = 10 if amount < 2000 else 100
            return max(100, int(round(amount / step)) * step - (20 if self.chance(0.2) and amount > 500 else 0))
        if currency == "CNY":
            if amount >= 30:
                whole = int(amount)
                r = self._r()
                if r < 0.45:
                    return whole - whole % 10 + 9 if whole % 10 != 9 else whole
                if r < 0.7:
                    return whole
                return round(whole + 0.9 if self.chance(0.5) else whole + 0.5, 2)
            return max(0.5, round(amount, 1))
        if amount < 1:
            return max(0.49, round(amount, 2))
        whole = int(amount)
        r = self._r()
        if r < 0.35:
            return round(whole + 0.99, 2)
        if r < 0.5:
            return round(whole + 0.95, 2)
        if r < 0.8:
            return whole if whole >= 1 else 0.99
        return round(amount, 2)

    def build_brands(self) -> None:
        everyday_words = list(EVERYDAY_WORDS)
        self.rng.shuffle(everyday_words)
        for i in range(self.n_brands):
            # The first two brands are one of each kind, so that even a tiny snapshot has both.
            everyday = bool(everyday_words) and (i == 1 or (i != 0 and self.chance(0.3)))
            cats = self._categories()
            usages: tuple[tuple[str, str], ...] = ()
            if everyday:
                name = everyday_words.pop()
                self._used["name"].add(name.casefold())
                for _ in range(20):
                    usages = tuple(u for u in EVERYDAY_WORDS[name] if u[1] not in cats)
                    if usages:
                        break
                    cats = self._categories()
            else:
                name = self._coined_name()
            acr = self._acronym(name) if self.chance(0.4) else None
            marks = [name.upper()] + ([acr] if acr else [])
            slug = name.casefold()
            owner = self.pick(_OWNER_UNRELATED) if self.chance(0.15) else self.pick(_OWNER_TEMPLATES).format(n=name)
            currency = self.rng.choices(("USD", "EUR", "GBP", "JPY", "CNY"), weights=(30, 35, 10, 10, 15))[0]
            brand = _Brand(brand_id=f"b-{slug}", name=name, everyday=everyday, marks=marks, acronym=acr,
                           owner=owner, categories=cats, colours=(self._colour(True), self._colour(False)),
                           usages=usages)
            tier = self._r()
            prefix = acr or name[:3].upper()
            n_products = max(len(cats), int(self.uniform(2, 6.99)))
            lines = self.rng.sample(_LINES, min(n_products, len(_LINES)))
            for k in range(n_products):
                cat = cats[k] if k < len(cats) else self.pick(cats)
                info = _CATS[cat]
                noun, noun_zh = self.pick(info.nouns)
                line = lines[k % len(lines)] + self.pick(_LINE_SUFFIX)
                lo, hi = info.msrp
                usd_guess = lo * (hi / lo) ** min(1.0, 0.75 * tier + 0.35 * self._r())
                msrp = _list_price(usd_guess / FX[currency], currency)
                brand.products.append(_Product(
                    sku=f"{prefix}-{cat[:3].upper()}-{k + 1:02d}{int(self.uniform(0, 9.99))}",
                    title=f"{name} {line} {noun}", category=cat, line=line, noun=noun, noun_zh=noun_zh,
                    msrp=msrp, currency=currency, usd=float(msrp) * FX[currency]))
            self.brands.append(brand)

    # identities ---------------------------------------------------------------------------

    def _new_phone(self, country: str) -> tuple[str, str]:
        while True:
            if country == "CN":
                nat = "1" + self.pick("3456789") + self.digits(9)
                cc = "86"
            elif country == "UK":
                nat, cc = "7" + self.pick("0345789") + self.digits(8), "44"
            elif country == "US":
                nat, cc = self.pick("2345678") + self.digits(2) + "555" + self.digits(4), "1"
            else:
                nat, cc = "15" + self.pick("1279") + self.digits(8), "49"
            if cc + nat not in self._used["phone"]:
                self._used["phone"].add(cc + nat)
                return cc, nat

    def _phone_text(self, cc: str, nat: str) -> str:
        if cc == "86":
            a, b, c = nat[:3], nat[3:7], nat[7:]
            styles = (f"+86 {a} {b} {c}", f"0086 {nat}", f"+86-{a}-{b}-{c}", f"+86{nat}", f"0086-{a}-{b}-{c}",
                      f"(+86) {a} {b} {c}", f"+86 {a}-{b}-{c}", f"+86 {nat}", f"0086 {a} {b} {c}",
                      f"+86 {nat[:4]} {nat[4:7]} {nat[7:]}", "＋８６ " + nat.translate(_FULLWIDTH_DIGITS),
                      f"+86.{a}.{b}.{c}")
        elif cc == "1":
            a, b, c = nat[:3], nat[3:6], nat[6:]
            styles = (f"+1 ({a}) {b}-{c}", f"+1-{a}-{b}-{c}", f"001 {a} {b} {c}", f"+1 {a} {b} {c}", f"+1{nat}",
                      f"+1.{a}.{b}.{c}")
        else:
            h = len(nat) // 2
            styles = (f"+{cc} {nat[:4]} {nat[4:]}", f"00{cc} {nat}", f"+{cc}{nat}", f"+{cc}-{nat[:h]}-{nat[h:]}",
                      f"+{cc} ({nat[:3]}) {nat[3:]}", f"00{cc}-{nat[:4]}-{nat[4:]}")
        return self.pick(styles)

    def _new_email(self, hint: str) -> tuple[str, str]:
        while True:
            domain = self.rng.choices(("gmail.com", "qq.com", "163.com", "outlook.com", "yahoo.com", "proton.me"),
                                      weights=(35, 25, 12, 12, 8, 8))[0]
            if domain == "qq.com" and self.chance(0.7):
                local = str(int(self.uniform(10_000_000, 3_999_999_999)))
            else:
                local = hint + (self.digits(int(self.uniform(1, 4.99))) if self.chance(0.8) else "")
            canon = (local.replace(".", "") if domain == "gmail.com" else local) + "@" + domain
            if canon not in self._used["email"]:
                self._used["email"].add(canon)
                return local, domain

    def _email_text(self, local: str, domain: str) -> str:
        if domain == "gmail.com":
            plain = local.replace(".", "")
            chars = list(plain)
            for _ in range(int(self.uniform(0, 2.99))):
                pos = int(self.uniform(1, max(1.01, len(chars) - 0.01)))
                if chars[pos - 1] != "." and (pos >= len(chars) or chars[pos] != "."):
                    chars.insert(pos, ".")
            local = "".join(chars)
            domain = self.pick(("gmail.com", "gmail.com", "googlemail.com", "Gmail.com", "GMAIL.COM"))
        else:
            domain = self.pick((domain, domain, domain.upper(), domain.capitalize()))
        r = self._r()
        if r < 0.25:
            local = local.upper()
        elif r < 0.45:
            local = local.capitalize()
        elif r < 0.55:
            local = "".join(c.upper() if self.chance(0.5) else c for c in local)
        if self.chance(0.4):
            local += "+" + self.pick(("shop", "store2", "biz", "tb", "2024", "vip", "sales", "new", "x"))
        return f"{local}@{domain}"

    def _new_payment(self, country: str) -> str:
        while True:
            if country in ("CN", "US"):
                canon = "62" + self.pick("12258") + self.digits(int(self.pick((13, 14, 16))))
            else:
                prefix = "GB" if country == "UK" else "DE"
                canon = prefix + self.digits(2) + ("NWBK" if country == "UK" else "") + self.digits(
                    14 if country == "UK" else 18)
            if canon not in self._used["pay"]:
                self._used["pay"].add(canon)
                return canon

    def _payment_text(self, canon: str) -> str:
        groups = [canon[i:i + 4] for i in range(0, len(canon), 4)]
        r = self._r()
        if r < 0.3:
            text = " ".join(groups)
        elif r < 0.5:
            text = "-".join(groups)
        elif r < 0.7:
            text = canon
        elif r < 0.8:
            text = canon[:6] + " " + canon[6:]
        elif r < 0.9:
            text = " ".join(canon[i:i + 3] for i in range(0, len(canon), 3))
        else:
            text = "  ".join(groups)
        return text.lower() if canon[0].isalpha() and self.chance(0.3) else text

    def _new_address(self, country: str) -> tuple[Any, ...]:
        while True:
            if country == "CN":
                city = self.pick(_CITIES_ZH)
                # The last three: written in Chinese, with the province, with the country.
                parts: tuple[Any, ...] = ("CN", city, self.pick(_DISTRICTS), self.pick(_STREETS),
                                          self.pick(_DIRECTIONS), int(self.uniform(1, 999)),
                                          int(self.uniform(1, 40)), int(self.uniform(1, 30)) * 100
                                          + int(self.uniform(1, 40)), self.chance(0.5),
                                          self.chance(0.5) and city[0] != "上海", self.chance(0.3))
            else:
                city = self.pick([c for c in _WEST_CITIES if c[1] == country])
                parts = ("W", city, self.pick(_WEST_STREETS), self.pick(("Street", "Road", "Avenue")),
                         self.pick(("North", "South", "East", "West", "", "", "")), int(self.uniform(1, 300)),
                         int(self.uniform(1, 60)), self.chance(0.5))
            key = repr(parts)
            if key not in self._used["addr"]:
                self._used["addr"].add(key)
                return parts

    def _address_text(self, parts: tuple[Any, ...]) -> str:
        p = self.pick
        if parts[0] == "CN":
            _, city, district, street, direction, number, floor, room, chinese, province, country = parts
            if chinese:
                bits = [city[2]] if province else []
                bits += [city[0] + "市", district[0], f"{street[0]}{direction[0]}路", f"{number}号", f"{room}室"]
                sep = p(("", "", " ", " ", "，", ", "))
                text = sep.join(bits) if self.chance(0.6) else "".join(bits[:3]) + " " + "".join(bits[3:])
                if self.chance(0.2):
                    text = text.translate(_FULLWIDTH_DIGITS)
                return text
            unit = p(("Unit", "Apt", "Suite", "Ste", "Apartment"))
            fl = p(("Floor", "Fl", "FL.", "floor"))
            num = p(("No.", "No", "Number", "no."))
            road = p(("Road", "Rd", "Rd.", "ROAD"))
            dist = p(("District", "Dist", "Dist.", "district"))
            dirn = "" if not direction[1] else p((direction[1], direction[1][0], direction[1][0] + "."))
            street_name = " ".join(x for x in (street[1], dirn, road) if x)
            comma = p((", ", ", ", " ", ",  "))
            text = comma.join((f"{unit} {room}", f"{fl} {floor}", f"{num} {number} {street_name}",
                               f"{district[1]} {dist}", city[1]))
            if province:
                text += comma + city[3]
            if country:
                text += comma + "China"
            r = self._r()
            return text.upper() if r < 0.15 else (text.lower() if r < 0.25 else text)
        _, city, street, kind, direction, number, unit, has_unit = parts
        short = {"Street": ("St", "St.", "Str."), "Road": ("Rd", "Rd."), "Avenue": ("Ave", "Av.", "Ave.")}[kind]
        kind_text = p((kind, kind) + short)
        dirn = "" if not direction else p((direction, direction[0], direction[0] + "."))
        comma = p((", ", " ", ", "))
        head = f"{p(('Unit', 'Apt', 'Suite', 'Apartment'))} {unit}{comma}" if has_unit else ""
        text = f"{head}{number} {dirn + ' ' if dirn else ''}{street} {kind_text}{comma}{city[0]}"
        r = self._r()
        return text.upper() if r < 0.1 else (text.lower() if r < 0.2 else text)

    def _new_tax(self, country: str) -> str:
        while True:
            if country == "CN":
                canon = "91" + self.pick(("4403", "4401", "3307", "3501", "4419", "3101")) + "00" + "MA" + \
                    "".join(self.pick("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
            elif country == "UK":
                canon = "GB" + self.digits(9)
            elif country == "US":
                canon = self.digits(9)
            else:
                canon = "DE" + self.digits(9)
            if canon not in self._used["tax"]:
                self._used["tax"].add(canon)
                return canon

    def _tax_text(self, canon: str) -> str:
        r = self._r()
        if canon.isdigit():
            return self.pick((f"{canon[:2]}-{canon[2:]}", f"{canon[:2]}-{canon[2:]}", canon, f"{canon[:2]} {canon[2:]}",
                              f"{canon[:2]}-{canon[2:5]}-{canon[5:]}", f"{canon[:2]}.{canon[2:]}"))
        if r < 0.45:
            return canon
        grouped = " ".join(canon[i:i + 4] for i in range(0, len(canon), 4))
        return self.pick((canon.lower(), grouped, grouped.lower(), canon[:6] + "-" + canon[6:],
                          canon[:8] + " " + canon[8:], "-".join(canon[i:i + 4] for i in range(0, len(canon), 4)),
                          canon[:2] + " " + canon[2:]))

    def _variants(self, make: Any, k: int) -> list[str]:
        """k differently written forms of one value."""
        seen: list[str] = []
        for _ in range(200):
            text = make()
            if text not in seen:
                seen.append(text)
                if len(seen) == k:
                    return seen
        raise AssertionError("not enough distinct spellings")  # pragma: no cover

    def _person(self, country: str) -> tuple[str, str]:
        """(legal name, e-mail hint)."""
        if country == "CN":
            sur, given = self.pick(_SURNAMES_ZH), self.pick(_GIVEN_ZH)
            name = sur[1] + given[1] if self.chance(0.5) else f"{sur[0]} {given[0]}"
            hint = self.pick((f"{sur[0]}{given[0]}", f"{given[0]}.{sur[0]}", f"{sur[0]}_{given[0]}",
                              self.pick(_NICK)))
            return name, hint.lower()
        first, last = self.pick(_FIRST_W), self.pick(_LAST_W)
        return f"{first} {last}", self.pick((f"{first}.{last}", f"{first[0]}{last}", f"{first}{last[0]}")).lower()

    def _company(self, country: str) -> tuple[str, str]:
        if country == "CN":
            i = int(self._r() * len(_TRADE_EN))
            city = self.pick(_CITIES_ZH)
            if self.chance(0.5):
                return f"{city[0]}市{_TRADE_ZH[i]}贸易有限公司", _TRADE_EN[i].lower()
            kind = self.pick(("Trading", "Technology", "E-commerce", "Import & Export", "Industrial"))
            return f"{city[1]} {_TRADE_EN[i]} {kind} Co., Ltd.", _TRADE_EN[i].lower() + self.pick(("", "trade", "tech"))
        word = self.pick(_STORE_EN_A).replace(" ", "")
        return f"{word} {self.pick(('Retail', 'Commerce', 'Trading', 'Goods'))} " \
               f"{self.pick(('Ltd', 'LLC', 'GmbH', 'Inc.'))}", word.lower() + self.pick(("shop", "sales", "store"))

    def _identity(self, country: str, company: bool, sparse: float) -> dict[str, str | None]:
        legal, hint = self._company(country) if company else self._person(country)

        def maybe(value: str | None, p: float) -> str | None:
            return value if self._r() >= p else None

        cc, nat = self._new_phone(country)
        phone: str | None = self._phone_text(cc, nat)
        if phone and self.chance(0.05) and cc == "86":
            phone = f"{nat[:3]} {nat[3:7]} {nat[7:]}"  # written without the country code
        email = self._email_text(*self._new_email(hint))
        tax: str | None = self._tax_text(self._new_tax(country)) if company or self.chance(0.15) else None
        if tax is None and self.chance(0.1):
            tax = self.pick(("N/A", "-", "none", "n/a"))
        return {
            "legal_name": maybe(legal, sparse * 0.5),
            "email": maybe(email, sparse),
            "phone": maybe(phone, sparse),
            "address": maybe(self._address_text(self._new_address(country)), sparse * 1.5),
            "tax_id": tax,
            "payment_account": maybe(self._payment_text(self._new_payment(country)), sparse * 1.5),
        }

    def _country(self, marketplace: str) -> str:
        if marketplace in _CN_MARKETS:
            return "CN" if self.chance(0.93) else self.pick(("UK", "US", "DE"))
        return "CN" if self.chance(0.55) else self.pick(("UK", "US", "DE"))

    def _reg(self, start_year: int, end_year: int) -> int:
        lo = datetime(start_year, 1, 1, tzinfo=_UTC).timestamp()
        hi = datetime(end_year, 12, 31, tzinfo=_UTC).timestamp()
        return min(int(self.uniform(lo, hi)), _SNAPSHOT_END - 30 * 86400)

    # sellers ------------------------------------------------------------------------------

    def _store_name(self, role: str, marketplace: str, brand: _Brand | None = None) -> str:
        zh = marketplace in _CN_MARKETS and self.chance(0.7)
        if role == "flagship" and brand is not None:
            if zh:
                return self.pick((f"{brand.name}官方旗舰店", f"{brand.name}旗舰店", f"{brand.name}官方店"))
            return self.pick((f"{brand.name} Official Store", f"{brand.name} Flagship", f"{brand.name} Store"))
        if role == "individual":
            if zh:
                return self.pick(("小", "阿", "")) + self.pick(_GIVEN_ZH)[1] + self.pick(("的闲置", "的小铺", "的衣橱", "闲置屋"))
            return self.pick((f"{self.pick(_FIRST_W)}'s closet", f"{self.pick(_NICK)}{self.digits(3)}",
                              f"user{self.digits(7)}", f"{self.pick(_FIRST_W).lower()}_sells"))
        if role == "accessory":
            return self.pick((f"{self.pick(_STORE_EN_A)} Accessories", f"{self.pick(_TRADE_ZH)}数码配件",
                              f"{self.pick(_STORE_EN_A)} Parts & Spares", f"{self.pick(_STORE_ZH_A)}配件店"))
        if role == "hobby":
            return self.pick((f"{self.pick(_STORE_EN_A)} Models & Maps", f"{self.pick(_TRADE_ZH)}模型馆",
                              "Antique Print Gallery", f"{self.pick(_LAST_W)} Collectibles", "Diecast Garage",
                              f"{self.pick(_STORE_ZH_A)}收藏馆"))
        if role == "resale" and not zh:
            return self.pick(("Vintage Closet", "Second Round Luxury", "Pre-Loved Finds", "ReWear Market",
                              f"{self.pick(_LAST_W)} Resale"))
        if role == "resale":
            return self.pick(("二手奢品店", "闲置好物铺", f"{self.pick(_TRADE_ZH)}二手名品"))
        if role in ("counterfeiter", "ring") and self.chance(0.3):
            return self.pick(("LuxDeals", "Top Quality Factory Store", "Brand Outlet 88", "Global Luxury Store",
                              "大牌折扣仓", "精品名品汇", "品牌尾货店", "Lux Mirror", "Best Choice Shop",
                              "原单工厂店", "Designer Finds"))
        if zh:
            return self.pick(_TRADE_ZH) + self.pick(_STORE_ZH_A) + self.pick(_STORE_ZH_B)
        return f"{self.pick(_STORE_EN_A)} {self.pick(_STORE_EN_B)}" + (f" {self.digits(2)}" if self.chance(0.2) else "")

    def _market(self, weights: tuple[int, int, int, int]) -> str:
        return self.rng.choices(("bazaar", "taobao", "tmall", "jd"), weights=weights)[0]

    def _add(self, role: str, market_weights: tuple[int, int, int, int], *, company: bool, sparse: float,
             years: tuple[int, int], status: str = "active", brand: _Brand | None = None) -> _Seller:
        marketplace = self._market(market_weights)
        seller = _Seller(role=role, marketplace=marketplace, store_name=self._store_name(role, marketplace, brand),
                         reg=self._reg(*years), status=status,
                         identity=self._identity(self._country(marketplace), company, sparse))
        self.sellers.append(seller)
        return seller

    def build_sellers(self) -> None:
        n, b = self.n, len(self.brands)
        for i, brand in enumerate(self.brands):
            s = self._add("flagship", (35, 0, 50, 15), company=True, sparse=0.02, years=(2014, 2022), brand=brand)
            s.brand = i
            s.identity["legal_name"] = brand.owner if self.chance(0.5) else s.identity["legal_name"]
        retailers = [self._add("retailer", (40, 5, 35, 20), company=True, sparse=0.03, years=(2014, 2023))
                     for _ in range(max(2, b // 4))]
        for counterfeiters in range(_count(n, 300, 6, 5_000)):
            banned = counterfeiters > 0 and self.chance(0.1)
            self._add("counterfeiter_banned" if banned else "counterfeiter", (40, 45, 10, 5), company=self.chance(0.4),
                      sparse=0.2, years=(2018, 2025), status="banned" if banned else "active")
        for _ in range(_count(n, 80, 12, 15_000)):
            self._add("generic", (40, 40, 10, 10), company=self.chance(0.6), sparse=0.12, years=(2015, 2025))
        for _ in range(_count(n, 600, 3, 2_000)):
            self._add("accessory", (40, 40, 5, 15), company=True, sparse=0.08, years=(2015, 2025))
        for _ in range(_count(n, 1500, 2, 1_000)):
            self._add("hobby", (60, 40, 0, 0), company=self.chance(0.5), sparse=0.1, years=(2014, 2025))
        for _ in range(_count(n, 30, 10, 30_000)):
            if self.chance(0.2):
                self._add("resale", (50, 50, 0, 0), company=True, sparse=0.08, years=(2016, 2025))
            else:
                self._add("individual", (50, 50, 0, 0), company=False, sparse=0.25, years=(2016, 2025))
        for r in range(_count(n, 2000, 3, 1_000)):
            self._build_ring(exposed=(r == 0) or (r != 1 and self.chance(0.6)))
        # Each brand sells through its flagship store and a few licensed retailers.
        self._retailer_brands = [(s, self.rng.sample(range(b), min(b, 1 + int(self._r() * 4)))) for s in retailers]

    def _build_ring(self, exposed: bool) -> None:
        size = int(self.uniform(2, 5.99))
        banned = int(self.uniform(1, size - 0.01)) if exposed else 0
        country = "CN" if self.chance(0.85) else self.pick(("UK", "US", "DE"))
        fields = ("phone", "email", "payment_account", "address", "tax_id")
        anchor = self.rng.choices(fields, weights=(35, 25, 20, 15, 5))[0]
        shared: dict[str, list[str]] = {}
        cc, nat = self._new_phone(country)
        local, domain = self._new_email(self._person(country)[1])
        pay = self._new_payment(country)
        addr = self._new_address(country)
        tax = self._new_tax(country)
        makers = {
            "phone": lambda: self._phone_text(cc, nat),
            "email": lambda: self._email_text(local, domain),
            "payment_account": lambda: self._payment_text(pay),
            "address": lambda: self._address_text(addr),
            "tax_id": lambda: self._tax_text(tax),
        }
        shared[anchor] = self._variants(makers[anchor], size)
        partial: tuple[str, list[int]] | None = None
        if size >= 3 and self.chance(0.4):
            extra = self.pick([f for f in fields if f != anchor])
            members = sorted(self.rng.sample(range(size), int(self.uniform(2, size + 0.99))))
            partial = (extra, members)
            shared[extra] = self._variants(makers[extra], len(members))
        ring_index = len(self.rings)
        members_idx: list[int] = []
        for m in range(size):
            is_banned = m < banned
            seller = self._add("ring_banned" if is_banned else "ring", (40, 45, 10, 5), company=self.chance(0.4),
                               sparse=0.15, years=(2019, 2023) if is_banned else (2024, 2025),
                               status="banned" if is_banned else "active")
            seller.ring = ring_index
            seller.identity[anchor] = shared[anchor][m]
            if partial and m in partial[1]:
                seller.identity[partial[0]] = shared[partial[0]][partial[1].index(m)]
            members_idx.append(len(self.sellers) - 1)
        self.rings.append(members_idx)
        if exposed:
            self.exposed.append(ring_index)

    def finalize_sellers(self) -> None:
        """Shuffle, so that position says nothing about the role, then number them."""
        order = list(range(len(self.sellers)))
        self.rng.shuffle(order)
        for k, i in enumerate(order, start=1):
            self.sellers[i].seller_id = f"S{k:06d}"
        for seller in self.sellers:
            if seller.role == "flagship":
                self.brands[seller.brand].authorized.append(seller.seller_id)
        for seller, brand_indexes in self._retailer_brands:
            for bi in brand_indexes:
                self.brands[bi].authorized.append(seller.seller_id)
        for brand in self.brands:
            brand.authorized.sort()

        def entry(s: _Seller) -> tuple[str, str, int]:
            return (s.seller_id, s.marketplace, s.reg)

        self.rings_ids = [tuple(self.sellers[i].seller_id for i in ring) for ring in self.rings]
        exposed = set(self.exposed)
        self.pool_counterfeit = [entry(s) for s in self.sellers if s.role == "counterfeiter"] + [
            entry(self.sellers[i]) for r, ring in enumerate(self.rings) if r not in exposed for i in ring]
        self.pool_ring = [entry(self.sellers[i]) for r in self.exposed for i in self.rings[r]
                          if self.sellers[i].status == "active"]
        self.pool_generic = [entry(s) for s in self.sellers if s.role == "generic"]
        self.pool_accessory = [entry(s) for s in self.sellers if s.role == "accessory"]
        self.pool_hobby = [entry(s) for s in self.sellers if s.role == "hobby"]
        # Private sellers list a handful of things each, resale shops many.
        self.pool_used = [entry(s) for s in self.sellers if s.role in ("individual", "resale")]
        self.by_id = {s.seller_id: entry(s) for s in self.sellers}
        self.sellers = [self.sellers[i] for i in order]
        del self._retailer_brands

    def seller_record(self, s: _Seller) -> dict[str, Any]:
        tz = _MARKET_TZ[s.marketplace]
        return {"seller_id": s.seller_id, "marketplace": s.marketplace, "store_name": s.store_name,
                "registered_at": datetime.fromtimestamp(s.reg, tz).isoformat(), "status": s.status,
                "identity": {k: s.identity[k] for k in
                             ("legal_name", "email", "phone", "address", "tax_id", "payment_account")}}

    def brand_record(self, b: _Brand) -> dict[str, Any]:
        return {"brand_id": b.brand_id, "name": b.name, "owner": b.owner, "marks": list(b.marks),
                "categories": list(b.categories),
                "products": [{"sku": p.sku, "title": p.title, "category": p.category, "msrp": p.msrp,
                              "currency": p.currency, "images": list(p.images)} for p in b.products],
                "authorized_sellers": list(b.authorized)}


_FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def _list_price(amount: float, currency: str) -> float | int:
    """A catalog price as brands set them: 149, 189.99, 1,290 yuan, 24,800 yen."""
    if currency == "JPY":
        step = 100 if amount < 10_000 else 1000
        return max(100, round(amount / step) * step)
    if currency == "CNY":
        step = 10 if amount < 2000 else 100
        whole = max(1, round(amount / step)) * step
        return whole - 1 if whole < 2000 and int(amount * 7) % 2 else whole
    step = 1 if amount < 40 else (5 if amount < 1000 else 50)
    whole = max(step, round(amount / step) * step)
    return round(whole - 0.01, 2) if whole < 1000 and int(amount * 13) % 3 == 0 else whole


def _count(listings: int, per: int, least: int, most: int) -> int:
    """Sellers of a kind: one per `per` listings, within bounds (so memory stays bounded)."""
    return min(most, max(least, listings // per))


def _title_case(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))


# -- listings ---------------------------------------------------------------------------------

_Entry = tuple[str, str, int]  # seller_id, marketplace, registered_at (epoch seconds)
_ImagePlan = list[tuple[Any, ...]]


class _Listings:
    """Draws one listing at a time from the world; nothing is kept between listings."""

    def __init__(self, world: _World, photos: bool) -> None:
        self.w = world
        self._r = world._r
        self.pick = world.pick
        self.skewed = world.skewed
        self.uniform = world.uniform
        self.chance = world.chance
        self.brands = world.brands
        self.everyday = [b for b in world.brands if b.usages]
        self.pictured = [b for b in world.brands if any(p.images for p in b.products)]
        self.photo_fraction = min(1.0, PHOTO_LISTINGS / max(1, world.n)) if photos else 0.0
        weights = {s.name: s.weight for s in SCENARIOS}
        if not self.everyday:
            weights["unbranded_cheap"] += weights.pop("everyday_word")
        if not world.pool_ring:
            weights["blatant_counterfeit"] += weights.pop("ring_member")
        with_photos = dict(weights)
        if not self.pictured:
            with_photos["blatant_counterfeit"] += with_photos.pop("stolen_image")
        without = {k: v for k, v in weights.items() if k != "stolen_image"}
        self._tables = [self._cumulative(without), self._cumulative(with_photos)]
        self.builders = {
            "blatant_counterfeit": self.blatant, "disguised_mark": self.disguised, "stolen_image": self.stolen,
            "ring_member": self.ring, "authorized_reseller": self.authorized, "second_hand": self.second_hand,
            "accessory": self.accessory, "everyday_word": self.everyday_word, "unbranded_cheap": self.unbranded,
            "innocent_replica": self.innocent,
        }

    @staticmethod
    def _cumulative(weights: dict[str, float]) -> tuple[list[str], list[float]]:
        names, cum, total = [], [], 0.0
        for s in SCENARIOS:
            if weights.get(s.name):
                total += weights[s.name]
                names.append(s.name)
                cum.append(total)
        return names, [c / total for c in cum]

    def scenario(self, photos: bool) -> str:
        names, cum = self._tables[photos]
        return names[min(bisect(cum, self._r()), len(names) - 1)]

    # shared pieces ----------------------------------------------------------------------

    def lang(self, marketplace: str) -> str:
        r = self._r()
        if marketplace in _CN_MARKETS:
            return "zh" if r < 0.78 else ("en" if r < 0.92 else "mix")
        return "en" if r < 0.86 else ("zh" if r < 0.93 else "mix")

    def currency(self, marketplace: str) -> str:
        r = self._r()
        if marketplace in _CN_MARKETS:
            return "CNY" if r < 0.96 else "USD"
        return "USD" if r < 0.45 else "EUR" if r < 0.7 else "GBP" if r < 0.85 else "JPY" if r < 0.95 else "CNY"

    def mark(self, b: _Brand) -> str:
        r = self._r()
        if b.acronym and r < 0.12:
            return b.acronym
        if r < 0.55:
            return b.name
        if r < 0.85:
            return b.name.upper()
        return b.name.lower()

    def finish(self, text: str, lang: str) -> str:
        text = " ".join(text.split())
        r = self._r()
        if lang != "zh":
            if r < 0.1:
                text = text.lower()
            elif r < 0.17:
                text = text.upper()
            elif r < 0.4:
                text = _title_case(text)
        if self._r() < 0.3:
            extra = self.pick(_EXTRAS_ZH if lang != "en" else _EXTRAS_EN)
            if lang != "en" and self._r() < 0.3:
                text = f"【{extra}】{text}"
            elif self._r() < 0.65:
                text = f"{text}{self.pick(_SEPARATORS)}{extra}"
            else:
                text = f"{extra}{self.pick(_SEPARATORS)}{text}"
        r = self._r()
        if r < 0.12:
            emoji = self.pick(_EMOJI) * (2 if self._r() < 0.2 else 1)
            text = f"{emoji} {text}" if self._r() < 0.4 else f"{text} {emoji}"
        elif r < 0.16:
            text += self.pick(("!", "!!", " !!!", "~", "。"))
        elif r < 0.19:
            text = f"★{text}★"
        return text

    def desc(self, lang: str, en: tuple[str, ...], zh: tuple[str, ...], **fmt: str) -> str:
        r = self._r()
        if r < 0.15:
            return ""
        k = 1 if r < 0.55 else (2 if r < 0.85 else 3)
        chosen: list[str] = []
        for _ in range(k):
            pool = zh if lang == "zh" or (lang == "mix" and self._r() < 0.5) else en
            sentence = self.pick(pool)
            if sentence not in chosen:
                chosen.append(sentence)
        text = self.pick((" ", " ", "\n", " ")).join(chosen) if lang != "zh" else self.pick(("，", " ", "\n", "。")).join(chosen)
        return text.format(**fmt) if fmt else text

    def ctx(self, b: _Brand | None, p: _Product | None, mark: str = "") -> dict[str, str]:
        cat = _CATS[p.category] if p else None
        adj = self.pick(cat.adj) if cat else ""
        adj2 = self.pick(cat.adj) if cat else ""
        zadj = self.pick(_ZH_ADJ)
        zadj2 = self.pick(_ZH_ADJ)
        return {"mark": mark, "line": p.line if p else "", "pnoun": p.noun if p else "",
                "pznoun": p.noun_zh if p else "", "adj": adj, "adj2": adj2 if adj2 != adj else "",
                "zadj": zadj, "zadj2": zadj2 if zadj2 != zadj else "", "extra": self.pick(_EXTRAS_EN),
                "zextra": self.pick(_EXTRAS_ZH)}

    def own_photos(self, category: str, colours: Any, label: str | None, style: str) -> _ImagePlan:
        return [("own", category, colours, label, style)] * (2 if self._r() < 0.3 else 1)

    def product_of(self, b: _Brand) -> _Product:
        return self.skewed(b.products, 1.4)

    # the scenarios --------------------------------------------------------------------------

    def blatant(self, photos: bool) -> tuple[Any, ...]:
        s = self.skewed(self.w.pool_counterfeit, 1.5)
        b = self.skewed(self.brands)
        p = self.product_of(b)
        lang = self.lang(s[1])
        c = self.ctx(b, p, self.mark(b))
        zh = lang == "zh" or (lang == "mix" and self._r() < 0.5)
        reps = _REPLICA_ZH if zh else _REPLICA_EN
        c["rep"], c["rep2"] = self.pick(reps), self.pick(reps)
        if c["rep2"] == c["rep"]:
            c["rep2"] = ""
        if self._r() < 0.15:
            # The replica wording only in the description.
            title = f"{c['mark']} {c['line']} {c['pznoun'] if zh else c['pnoun']}"
            description = f"{c['rep']} {self.desc(lang, _BLATANT_DESC_EN, _BLATANT_DESC_ZH)}".strip()
        else:
            title = self.pick(_BLATANT_ZH if zh else _BLATANT_EN).format(**c)
            description = self.desc(lang, _BLATANT_DESC_EN, _BLATANT_DESC_ZH)
        usd = p.usd * self.uniform(0.04, 0.22)
        colours = self._near(b.colours)
        plan = self.own_photos(p.category, colours, b.name.upper(), "home") if photos else []
        return s, self.finish(title, "zh" if zh else "en"), description, self._category(p.category), usd, b, plan

    def _near(self, colours: Any) -> Any:
        return tuple(tuple(max(0, min(255, v + int(self.uniform(-25, 25)))) for v in c) for c in colours)

    def _category(self, category: str) -> str:
        return category if self._r() > 0.05 else self.pick(TAXONOMY)

    def disguise(self, name: str) -> str:
        base = name.upper() if self._r() < 0.6 else name
        for _ in range(10):
            r = self._r()
            if r < 0.22:
                out = "".join(_LEET.get(ch, ch) if self._r() < 0.7 else ch for ch in base)
            elif r < 0.42:
                letters = list(base)
                spots = [i for i, ch in enumerate(letters) if ch in _HOMOGLYPHS]
                for i in self.w.rng.sample(spots, min(len(spots), 1 + int(self._r() * 3))):
                    letters[i] = self.pick(_HOMOGLYPHS[letters[i]])
                out = "".join(letters)
            elif r < 0.54:
                out = " ".join(base.upper())
            elif r < 0.66:
                out = self.pick((".", "-", "*", "·", "_")).join(base.upper()) + ("." if self._r() < 0.2 else "")
            elif r < 0.88:
                out = self._misspell(base)
            elif r < 0.94:
                out = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in base)  # full width
            else:
                cut = 1 + int(self._r() * (len(base) - 1))
                out = base[:cut] + "\u200b" + base[cut:]  # zero-width space
            if out.casefold() != name.casefold() and out != base:
                return out
        return " ".join(base.upper())

    def _misspell(self, word: str) -> str:
        letters = list(word)
        r = self._r()
        i = 1 + int(self._r() * (len(letters) - 2)) if len(letters) > 2 else 0
        if r < 0.3 and len(letters) > 3:
            letters[i], letters[i + 1] = letters[i + 1], letters[i]
        elif r < 0.55 and len(letters) > 4:
            del letters[i]
        elif r < 0.75:
            letters.insert(i, letters[i])
        else:
            vowels = "aeiou" if letters[i].islower() else "AEIOU"
            letters[i] = self.pick([v for v in vowels if v != letters[i].lower()]) if letters[i] in vowels \
                else letters[i] + self.pick(vowels)
        return "".join(letters)

    def disguised(self, photos: bool) -> tuple[Any, ...]:
        s = self.skewed(self.w.pool_counterfeit, 1.5)
        b = self.skewed(self.brands)
        p = self.product_of(b)
        lang = self.lang(s[1])
        zh = lang == "zh"
        c = self.ctx(b, p)
        c["dmark"] = self.disguise(b.acronym if b.acronym and self._r() < 0.1 else b.name)
        c["extra"] = self.pick(_DISGUISED_EXTRA_EN)
        c["zextra"] = self.pick(_DISGUISED_EXTRA_ZH)
        c["rep"] = self.pick(_REPLICA_EN) if self._r() < 0.3 else ""
        title = self.pick(_DISGUISED_ZH if zh else _DISGUISED_EN).format(**c)
        description = self.desc(lang, _DISGUISED_DESC_EN, _DISGUISED_DESC_ZH)
        usd = p.usd * self.uniform(0.06, 0.3)
        plan = self.own_photos(p.category, self._near(b.colours), b.name.upper(), "home") if photos else []
        # Casing changes would undo some disguises ("q u o r v e x" stays one), so keep the title's case.
        return s, self._decorate(title, "zh" if zh else "en"), description, self._category(p.category), usd, b, plan

    def _decorate(self, title: str, lang: str) -> str:
        text = " ".join(title.split()) if "\u200b" not in title else title.strip()
        if self._r() < 0.25:
            text = f"{text} {self.pick(_EXTRAS_ZH if lang == 'zh' else _EXTRAS_EN)}"
        if self._r() < 0.1:
            text = f"{self.pick(_EMOJI)} {text}"
        return text

    def stolen(self, photos: bool) -> tuple[Any, ...]:
        s = self.skewed(self.w.pool_counterfeit, 1.5) if self._r() < 0.6 else self.skewed(self.w.pool_generic)
        b = self.skewed(self.pictured)
        p = self.skewed([q for q in b.products if q.images], 1.4)
        lang = self.lang(s[1])
        zh = lang == "zh"
        c = self.ctx(b, p, self.mark(b))
        if self._r() < 0.5:
            title = self.pick(_STOLEN_MARK_ZH if zh else _STOLEN_MARK_EN).format(**c)
            usd = p.usd * self.uniform(0.25, 0.6)
        else:
            title = self.pick(_STOLEN_PLAIN_ZH if zh else _STOLEN_PLAIN_EN).format(**c)
            usd = p.usd * self.uniform(0.1, 0.35)
        description = self.desc(lang, _GENERIC_DESC_EN, _GENERIC_DESC_ZH)
        plan: _ImagePlan = [("derived", p.images[0])]
        if self._r() < 0.35:
            plan.append(("derived", self.pick(p.images)))
        return s, self.finish(title, "zh" if zh else "en"), description, self._category(p.category), usd, b, plan

    def ring(self, photos: bool) -> tuple[Any, ...]:
        s = self.skewed(self.w.pool_ring, 1.3)
        b = self.skewed(self.brands)
        p = self.product_of(b)
        lang = self.lang(s[1])
        zh = lang == "zh"
        c = self.ctx(b, p, self.mark(b))
        title = self.pick(_RING_ZH if zh else _RING_EN).format(**c)
        description = self.desc(lang, _RING_DESC_EN, _RING_DESC_ZH)
        usd = p.usd * self.uniform(0.2, 0.55)
        plan = self.own_photos(p.category, self._near(b.colours), b.name.upper(), "home") if photos else []
        return s, self.finish(title, "zh" if zh else "en"), description, p.category, usd, b, plan

    def authorized(self, photos: bool) -> tuple[Any, ...]:
        b = self.skewed(self.brands)
        s = self.w.by_id[self.pick(b.authorized)]
        p = self.product_of(b)
        lang = self.lang(s[1])
        zh = lang == "zh"
        c = self.ctx(b, p, self.mark(b) if self._r() < 0.5 else b.name)
        c["variant"] = self.pick(_VARIANTS)
        c["year"] = self.pick(("2025", "2026", "2025 edition", ""))
        title = self.pick(_AUTH_ZH if zh else _AUTH_EN).format(**c)
        description = self.desc(lang, _AUTH_DESC_EN, _AUTH_DESC_ZH)
        usd = p.usd * (self.uniform(0.88, 1.05) if self._r() < 0.8 else self.uniform(0.65, 0.88))
        plan: _ImagePlan = []
        if photos:
            plan = [("official", path) for path in p.images] if p.images and self._r() < 0.5 else \
                self.own_photos(p.category, b.colours, b.name.upper(), "home")
        return s, self.finish(title, "zh" if zh else "en"), description, p.category, usd, b, plan

    def second_hand(self, photos: bool) -> tuple[Any, ...]:
        s = self.skewed(self.w.pool_used, 1.3)
        b = self.skewed(self.brands)
        p = self.product_of(b)
        lang = self.lang(s[1])
        zh = lang == "zh"
        c = self.ctx(b, p, self.mark(b))
        sized = p.category in ("footwear", "apparel")
        c["cond"] = self.pick(_USED_COND_EN)
        c["zcond"] = self.pick(_USED_COND_ZH)
        c["size"] = self.pick(("size 42", "US 9", "size M", "EU 38", "size L", "UK 7")) if sized else ""
        c["zsize"] = self.pick(("42码", "M码", "38码", "L码")) if sized else c["zcond"]
        title = self.pick(_USED_ZH if zh else _USED_EN).format(**c)
        description = self.desc(lang, _USED_DESC_EN, _USED_DESC_ZH)
        usd = p.usd * self.uniform(0.3, 0.75)
        plan = self.own_photos(p.category, b.colours, b.name.upper(), "used") if photos else []
        return s, self.finish(title, "zh" if zh else "en"), description, p.category, usd, b, plan

    def accessory(self, photos: bool) -> tuple[Any, ...]:
        b = self.skewed(self.brands)
        cat = self.pick(b.categories)
        noun, znoun, category, (lo, hi) = self.pick(_ACCESSORIES[cat])
        products = [q for q in b.products if q.category == cat] or b.products
        p = self.pick(products)
        s = self.skewed(self.w.pool_accessory, 1.5) if self._r() < 0.85 else self.skewed(self.w.pool_generic)
        lang = self.lang(s[1])
        zh = lang == "zh"
        c = self.ctx(b, p, self.mark(b))
        c["noun"], c["znoun"] = noun, znoun
        c["adj"] = self.pick(("universal", "premium", "durable", "soft", "high quality", "")) if self._r() < 0.6 else ""
        title = self.pick(_ACC_ZH if zh else _ACC_EN).format(**c)
        description = self.desc(lang, _ACC_DESC_EN, _ACC_DESC_ZH, brand=b.name, line=p.line)
        usd = self.w.loguniform(lo, hi)
        plan = self.own_photos(category, (self.w._colour(True), self.w._colour(False)), None, "home") \
            if photos else []
        return s, self.finish(title, "zh" if zh else "en"), description, category, usd, b, plan

    def everyday_word(self, photos: bool) -> tuple[Any, ...]:
        b = self.skewed(self.everyday, 1.2)
        phrase, category = self.pick(b.usages)
        s = self.skewed(self.w.pool_generic)
        lang = "en"
        r = self._r()
        title = phrase
        if r < 0.25:
            adj = self.pick(_CATS[category].adj)
            title = f"{phrase}, {adj}" if self._r() < 0.5 else f"{adj} {phrase}"
        elif r < 0.35:
            title = f"{phrase} {self.pick(('gift', 'for kids', 'set', 'handmade', '2 pcs', 'large'))}"
        description = self.desc(lang, _GENERIC_DESC_EN, _GENERIC_DESC_ZH)
        usd = self.w.loguniform(*_EVERYDAY_USD[category])
        plan = self.own_photos(category, (self.w._colour(True), self.w._colour(False)), None, "home") \
            if photos else []
        return s, self.finish(title, lang), description, category, usd, b, plan

    def unbranded(self, photos: bool) -> tuple[Any, ...]:
        s = self.skewed(self.w.pool_generic)
        category = self.pick(TAXONOMY)
        cat = _CATS[category]
        noun, znoun = self.pick(cat.nouns)
        lang = self.lang(s[1])
        zh = lang == "zh"
        adj, adj2 = self.pick(cat.adj), self.pick(cat.adj)
        zadj, zadj2 = self.pick(_ZH_ADJ), self.pick(_ZH_ADJ)
        c = {"noun": noun, "znoun": znoun, "adj": adj, "adj2": adj2 if adj2 != adj else "", "zadj": zadj,
             "zadj2": zadj2 if zadj2 != zadj else "", "extra": self.pick(_EXTRAS_EN), "zextra": self.pick(_EXTRAS_ZH),
             "qty": self.pick(("2 pcs", "3 pack", "set of 4", "1 pc", "10 pcs")), "who": self.pick(_WHO)}
        title = self.pick(_GENERIC_ZH if zh else _GENERIC_EN).format(**c)
        if not zh and self._r() < 0.04:
            title += self.pick((" no logo", " OEM", " generic", " unbranded"))
        description = self.desc(lang, _GENERIC_DESC_EN, _GENERIC_DESC_ZH)
        usd = self.w.loguniform(*cat.cheap)
        plan = self.own_photos(category, (self.w._colour(True), self.w._colour(False)), None, "home") \
            if photos else []
        return s, self.finish(title, "zh" if zh else "en"), description, category, usd, None, plan

    def innocent(self, photos: bool) -> tuple[Any, ...]:
        s = self.skewed(self.w.pool_hobby) if self._r() < 0.8 else self.skewed(self.w.pool_generic)
        want_zh = s[1] in _CN_MARKETS and self._r() < 0.6
        options = [t for t in _INNOCENT if (t[3] == "zh") == want_zh]
        template, category, (lo, hi), lang, kind = self.pick(options)
        vehicle = self.pick(_VEHICLES)
        painting = self.pick(_PAINTINGS)
        title = template.format(vyear=int(self.uniform(1925, 1996)), myear=int(self.uniform(1550, 1850)),
                                pyear=int(self.uniform(1890, 1965)), vehicle=vehicle[0], vehicle_zh=vehicle[1],
                                region=self.pick(_REGIONS), painting=painting[0], painting_zh=painting[1],
                                weapon=self.pick(_WEAPONS))
        description = self.desc(lang, *_INNOCENT_DESC[kind])
        usd = self.w.loguniform(lo, hi)
        plan = self.own_photos(category, (self.w._colour(True), self.w._colour(False)), None, "home") \
            if photos else []
        return s, self.finish(title, lang), description, category, usd, None, plan


# -- images -----------------------------------------------------------------------------------


class _Painter:
    """Procedural product photos (Pillow): a silhouette per category in the brand's colours."""

    SIZE = 256

    def __init__(self, out: Path, seed: int) -> None:
        from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps  # only needed with images

        self.Image, self.ImageDraw, self.ImageEnhance, self.ImageFont, self.ImageOps = \
            Image, ImageDraw, ImageEnhance, ImageFont, ImageOps
        self.out = out
        self.seed = seed
        self.count = 0
        self._fonts: dict[int, Any] = {}
        self._dirs: set[Path] = set()
        self._cache: OrderedDict[str, Any] = OrderedDict()

    def _font(self, size: int) -> Any:
        if size not in self._fonts:
            try:
                self._fonts[size] = self.ImageFont.load_default(size=size)
            except (TypeError, ValueError, OSError):  # Pillow without FreeType: the bitmap font
                self._fonts[size] = self.ImageFont.load_default()
        return self._fonts[size]

    def _save(self, image: Any, rel: str, quality: int) -> None:
        path = self.out / rel
        if path.parent not in self._dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(path.parent)
        image.save(path, "JPEG", quality=quality)
        self.count += 1

    def product(self, rel: str, category: str, colours: Any, label: str | None, style: str) -> None:
        rnd = random.Random(f"{self.seed}:{rel}")
        size = self.SIZE
        if style == "studio":
            bg = (248, 248, 246)
        else:
            bg = tuple(int(rnd.uniform(150, 235)) for _ in range(3))
        image = self.Image.new("RGB", (size, size), bg)
        d = self.ImageDraw.Draw(image)
        if style != "studio":
            floor = int(rnd.uniform(170, 215))
            d.rectangle((0, floor, size, size), fill=tuple(max(0, c - 35) for c in bg))
        primary, accent = colours
        scale = rnd.uniform(0.8, 1.0) if style == "studio" else rnd.uniform(0.6, 0.95)
        cx = size / 2 + (0 if style == "studio" else rnd.uniform(-30, 30))
        cy = size / 2 + (0 if style == "studio" else rnd.uniform(-15, 20))
        d.ellipse((cx - 85 * scale, cy + 70 * scale, cx + 85 * scale, cy + 92 * scale), fill=tuple(
            max(0, c - 50) for c in bg))
        _SHAPES.get(category, _draw_box)(d, cx, cy, scale, primary, accent, rnd)
        if label:
            font = self._font(max(10, int(22 * scale)))
            d.text((cx, cy + 8 * scale), label, font=font, fill=accent, anchor="mm")
        if style == "used":
            for _ in range(int(rnd.uniform(3, 9))):
                x, y = rnd.uniform(cx - 60, cx + 60), rnd.uniform(cy - 40, cy + 50)
                d.line((x, y, x + rnd.uniform(-12, 12), y + rnd.uniform(-6, 6)), fill=(90, 90, 90), width=1)
        self._save(image, rel, 90 if style == "studio" else int(rnd.uniform(70, 88)))

    def derived(self, rel: str, source: str) -> None:
        """An official photo, reused with edits: crop, resize, brightness, rotation, watermark."""
        rnd = random.Random(f"{self.seed}:{rel}")
        image = self._open(source)
        size = image.size[0]
        edits = rnd.sample(("crop", "brightness", "rotate", "text", "flip", "border", "contrast"),
                           k=1 + int(rnd.random() * 3))
        edits.sort(key=lambda e: e == "text")  # a watermark goes on last, over the other edits
        for edit in edits:
            if edit == "crop":
                w = int(size * rnd.uniform(0.7, 0.95))
                x, y = int(rnd.uniform(0, size - w)), int(rnd.uniform(0, size - w))
                image = image.crop((x, y, x + w, y + w)).resize((size, size))
            elif edit == "brightness":
                image = self.ImageEnhance.Brightness(image).enhance(rnd.uniform(0.75, 1.3))
            elif edit == "contrast":
                image = self.ImageEnhance.Contrast(image).enhance(rnd.uniform(0.8, 1.3))
            elif edit == "rotate":
                angle = rnd.uniform(2, 8) * (1 if rnd.random() < 0.5 else -1)
                image = image.rotate(angle, resample=self.Image.BILINEAR, fillcolor=(255, 255, 255))
            elif edit == "flip":
                image = self.ImageOps.mirror(image)
            elif edit == "border":
                colour = tuple(int(rnd.uniform(0, 255)) for _ in range(3))
                image = self.ImageOps.expand(image, border=int(rnd.uniform(4, 14)), fill=colour)
            else:
                d = self.ImageDraw.Draw(image)
                text = rnd.choice(("HOT SALE", "1:1", "BEST QUALITY", "REAL PHOTO", "LUXDEALS", "NEW 2025",
                                   "TOP AAA", "shop88.example", "FREE SHIPPING", "SALE -70%"))
                colour = rnd.choice(((255, 255, 255), (220, 20, 20), (30, 30, 30), (255, 200, 0)))
                d.text((rnd.uniform(20, size - 20), rnd.uniform(20, size - 20)), text,
                       font=self._font(int(rnd.uniform(14, 30))), fill=colour, anchor="mm")
        target = rnd.choice((image.size[0], 240, 300, 320, 224))
        if target != image.size[0]:
            image = image.resize((target, target))
        self._save(image, rel, int(rnd.uniform(60, 88)))

    def _open(self, source: str) -> Any:
        image = self._cache.get(source)
        if image is None:
            with self.Image.open(self.out / source) as opened:
                image = opened.convert("RGB")
            self._cache[source] = image
            if len(self._cache) > 256:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(source)
        return image.copy()


def _draw_box(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    d.rounded_rectangle((cx - 70 * s, cy - 60 * s, cx + 70 * s, cy + 70 * s), radius=int(10 * s), fill=p)
    d.rectangle((cx - 70 * s, cy - 20 * s, cx + 70 * s, cy - 10 * s), fill=a)


def _draw_shoe(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    d.rounded_rectangle((cx - 95 * s, cy + 40 * s, cx + 95 * s, cy + 65 * s), radius=int(10 * s), fill=a)
    d.polygon([(cx - 95 * s, cy + 42 * s), (cx - 80 * s, cy - 30 * s), (cx - 30 * s, cy - 40 * s),
               (cx + 10 * s, cy - 5 * s), (cx + 90 * s, cy + 15 * s), (cx + 95 * s, cy + 42 * s)], fill=p)
    for k in range(4):
        x = cx - 45 * s + k * 14 * s
        d.line((x, cy - 25 * s + k * 5 * s, x + 12 * s, cy - 18 * s + k * 5 * s), fill=a, width=max(1, int(3 * s)))


def _draw_bag(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    d.arc((cx - 45 * s, cy - 95 * s, cx + 45 * s, cy - 5 * s), 180, 360, fill=a, width=max(2, int(9 * s)))
    d.rounded_rectangle((cx - 80 * s, cy - 50 * s, cx + 80 * s, cy + 75 * s), radius=int(18 * s), fill=p)
    d.rectangle((cx - 80 * s, cy - 50 * s, cx + 80 * s, cy - 20 * s), fill=a)


def _draw_watch(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    d.rectangle((cx - 25 * s, cy - 110 * s, cx + 25 * s, cy + 110 * s), fill=a)
    d.ellipse((cx - 60 * s, cy - 60 * s, cx + 60 * s, cy + 60 * s), fill=p)
    d.ellipse((cx - 48 * s, cy - 48 * s, cx + 48 * s, cy + 48 * s), fill=(245, 245, 240))
    d.line((cx, cy, cx, cy - 38 * s), fill=(20, 20, 20), width=max(1, int(3 * s)))
    d.line((cx, cy, cx + 28 * s, cy + 10 * s), fill=(20, 20, 20), width=max(1, int(3 * s)))


def _draw_shirt(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    d.polygon([(cx - 35 * s, cy - 80 * s), (cx - 95 * s, cy - 45 * s), (cx - 75 * s, cy - 10 * s),
               (cx - 55 * s, cy - 25 * s), (cx - 55 * s, cy + 80 * s), (cx + 55 * s, cy + 80 * s),
               (cx + 55 * s, cy - 25 * s), (cx + 75 * s, cy - 10 * s), (cx + 95 * s, cy - 45 * s),
               (cx + 35 * s, cy - 80 * s), (cx, cy - 65 * s)], fill=p)
    d.arc((cx - 35 * s, cy - 100 * s, cx + 35 * s, cy - 60 * s), 0, 180, fill=a, width=max(1, int(5 * s)))


def _draw_lipstick(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    d.rectangle((cx - 28 * s, cy - 10 * s, cx + 28 * s, cy + 80 * s), fill=p)
    d.rectangle((cx - 22 * s, cy - 40 * s, cx + 22 * s, cy - 10 * s), fill=a)
    d.polygon([(cx - 18 * s, cy - 40 * s), (cx + 18 * s, cy - 40 * s), (cx + 18 * s, cy - 75 * s),
               (cx - 18 * s, cy - 60 * s)], fill=(180, 20, 60))


def _draw_bottle(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    d.rectangle((cx - 18 * s, cy - 95 * s, cx + 18 * s, cy - 60 * s), fill=a)
    d.rectangle((cx - 10 * s, cy - 60 * s, cx + 10 * s, cy - 45 * s), fill=(200, 200, 200))
    d.rounded_rectangle((cx - 65 * s, cy - 45 * s, cx + 65 * s, cy + 75 * s), radius=int(16 * s), fill=p)


def _draw_headphones(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    d.arc((cx - 75 * s, cy - 90 * s, cx + 75 * s, cy + 60 * s), 180, 360, fill=p, width=max(2, int(14 * s)))
    d.rounded_rectangle((cx - 90 * s, cy - 20 * s, cx - 50 * s, cy + 60 * s), radius=int(12 * s), fill=a)
    d.rounded_rectangle((cx + 50 * s, cy - 20 * s, cx + 90 * s, cy + 60 * s), radius=int(12 * s), fill=a)
    d.rounded_rectangle((cx - 45 * s, cy - 5 * s, cx + 45 * s, cy + 25 * s), radius=int(6 * s), fill=p)


def _draw_phone_case(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    d.rounded_rectangle((cx - 55 * s, cy - 100 * s, cx + 55 * s, cy + 100 * s), radius=int(20 * s), fill=p)
    d.rounded_rectangle((cx - 45 * s, cy - 90 * s, cx - 5 * s, cy - 50 * s), radius=int(8 * s), fill=a)
    d.ellipse((cx - 38 * s, cy - 83 * s, cx - 22 * s, cy - 67 * s), fill=(30, 30, 30))


def _draw_bear(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    for ox in (-38, 38):
        d.ellipse((cx + (ox - 18) * s, cy - 95 * s, cx + (ox + 18) * s, cy - 59 * s), fill=p)
    d.ellipse((cx - 50 * s, cy - 85 * s, cx + 50 * s, cy + 5 * s), fill=p)
    d.ellipse((cx - 60 * s, cy - 10 * s, cx + 60 * s, cy + 80 * s), fill=p)
    d.ellipse((cx - 20 * s, cy - 40 * s, cx + 20 * s, cy - 15 * s), fill=a)


def _draw_lamp(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    d.polygon([(cx - 35 * s, cy - 85 * s), (cx + 35 * s, cy - 85 * s), (cx + 65 * s, cy - 20 * s),
               (cx - 65 * s, cy - 20 * s)], fill=p)
    d.rectangle((cx - 5 * s, cy - 20 * s, cx + 5 * s, cy + 60 * s), fill=a)
    d.ellipse((cx - 45 * s, cy + 55 * s, cx + 45 * s, cy + 80 * s), fill=a)


def _draw_ring(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    d.ellipse((cx - 60 * s, cy - 40 * s, cx + 60 * s, cy + 80 * s), outline=p, width=max(2, int(14 * s)))
    d.polygon([(cx - 22 * s, cy - 40 * s), (cx, cy - 70 * s), (cx + 22 * s, cy - 40 * s), (cx, cy - 25 * s)], fill=a)


def _draw_glasses(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    for ox in (-48, 48):
        d.ellipse((cx + (ox - 40) * s, cy - 30 * s, cx + (ox + 40) * s, cy + 30 * s), fill=a, outline=p,
                  width=max(2, int(8 * s)))
    d.line((cx - 10 * s, cy - 8 * s, cx + 10 * s, cy - 8 * s), fill=p, width=max(2, int(6 * s)))
    d.line((cx - 88 * s, cy - 15 * s, cx - 110 * s, cy - 25 * s), fill=p, width=max(2, int(6 * s)))
    d.line((cx + 88 * s, cy - 15 * s, cx + 110 * s, cy - 25 * s), fill=p, width=max(2, int(6 * s)))


def _draw_racket(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    d.ellipse((cx - 55 * s, cy - 100 * s, cx + 55 * s, cy + 20 * s), outline=p, width=max(2, int(10 * s)))
    for k in range(-3, 4):
        d.line((cx + k * 13 * s, cy - 95 * s, cx + k * 13 * s, cy + 15 * s), fill=a, width=1)
    d.rectangle((cx - 8 * s, cy + 20 * s, cx + 8 * s, cy + 100 * s), fill=p)


def _draw_frame(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    d.rectangle((cx - 90 * s, cy - 70 * s, cx + 90 * s, cy + 70 * s), fill=p)
    d.rectangle((cx - 78 * s, cy - 58 * s, cx + 78 * s, cy + 58 * s), fill=(200, 225, 240))
    d.polygon([(cx - 78 * s, cy + 58 * s), (cx - 20 * s, cy - 20 * s), (cx + 20 * s, cy + 20 * s),
               (cx + 45 * s, cy - 5 * s), (cx + 78 * s, cy + 58 * s)], fill=a)
    d.ellipse((cx + 35 * s, cy - 50 * s, cx + 60 * s, cy - 25 * s), fill=(250, 200, 60))


def _draw_book(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    d.rectangle((cx - 60 * s, cy - 85 * s, cx + 60 * s, cy + 80 * s), fill=p)
    d.rectangle((cx - 60 * s, cy - 85 * s, cx - 45 * s, cy + 80 * s), fill=a)
    d.rectangle((cx - 30 * s, cy - 55 * s, cx + 45 * s, cy - 30 * s), fill=a)


def _draw_car(d: Any, cx: float, cy: float, s: float, p: Any, a: Any, rnd: random.Random) -> None:
    d.polygon([(cx - 100 * s, cy + 35 * s), (cx - 95 * s, cy), (cx - 45 * s, cy - 10 * s), (cx - 20 * s, cy - 45 * s),
               (cx + 40 * s, cy - 45 * s), (cx + 65 * s, cy - 5 * s), (cx + 100 * s, cy + 5 * s),
               (cx + 100 * s, cy + 35 * s)], fill=p)
    for ox in (-55, 55):
        d.ellipse((cx + (ox - 20) * s, cy + 15 * s, cx + (ox + 20) * s, cy + 55 * s), fill=(25, 25, 25))
        d.ellipse((cx + (ox - 8) * s, cy + 27 * s, cx + (ox + 8) * s, cy + 43 * s), fill=a)


_SHAPES = {
    "footwear": _draw_shoe, "bags": _draw_bag, "watches": _draw_watch, "apparel": _draw_shirt,
    "cosmetics": _draw_lipstick, "fragrance": _draw_bottle, "electronics": _draw_headphones,
    "phone_accessories": _draw_phone_case, "toys": _draw_bear, "home": _draw_lamp, "jewelry": _draw_ring,
    "eyewear": _draw_glasses, "sporting_goods": _draw_racket, "art": _draw_frame, "books": _draw_book,
    "collectibles": _draw_car,
}


# -- the entry point --------------------------------------------------------------------------


def generate(out: Path, *, listings: int, seed: int, labels: Path | None = None, images: bool = True,
             brands: int | None = None) -> GenerationSummary:
    """Write a marketplace snapshot of `listings` listings into `out` (see docs/generator.md)."""
    if listings < 0:
        raise ValueError("listings must be 0 or more")
    n_brands = default_brand_count(listings) if brands is None else brands
    if n_brands < 1:
        raise ValueError("brands must be 1 or more")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    encode = json.JSONEncoder(ensure_ascii=False).encode

    world = _World(seed, listings, n_brands, images)
    world.build_brands()
    world.build_sellers()
    world.finalize_sellers()

    # Official photos: one or two per product, drawn either way so the brands are the same.
    painter = _Painter(out, seed) if images else None
    for brand in world.brands:
        for product in brand.products:
            count = 2 if world.chance(0.25) else 1
            if painter is None:
                continue
            for k in range(1, count + 1):
                rel = f"images/brands/{brand.brand_id}/{product.sku}-{k}.jpg"
                painter.product(rel, product.category, brand.colours, brand.name.upper(), "studio")
                product.images.append(rel)

    with open(out / "sellers.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for seller in world.sellers:
            f.write(encode(world.seller_record(seller)) + "\n")
    n_sellers = len(world.sellers)
    world.sellers = []  # written; the listings need only the pools
    world._used.clear()
    with open(out / "brands.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for brand in world.brands:
            f.write(encode(world.brand_record(brand)) + "\n")
    with open(out / "fx.json", "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(FX, sort_keys=True, indent=2) + "\n")

    scenarios = {s.name: 0 for s in SCENARIOS}
    gen = _Listings(world, photos=painter is not None)
    width = max(7, len(str(listings)))
    rnd = world._r
    photo_fraction = gen.photo_fraction
    price_in = world._price_in
    builders = gen.builders
    labels_file = None
    if labels is not None:
        labels = Path(labels)
        labels.parent.mkdir(parents=True, exist_ok=True)
        labels_file = open(labels, "w", encoding="utf-8", newline="\n")
    try:
        with open(out / "listings.jsonl", "w", encoding="utf-8", newline="\n") as f:
            lines: list[str] = []
            label_lines: list[str] = []
            for i in range(1, listings + 1):
                listing_id = f"L{i:0{width}d}"
                photos = painter is not None and rnd() < photo_fraction
                case = gen.scenario(photos)
                (seller_id, marketplace, registered), title, description, category, usd, brand, plan = \
                    builders[case](photos)
                currency = gen.currency(marketplace)
                paths: list[str] = []
                if painter is not None:
                    for k, item in enumerate(plan, start=1):
                        if item[0] == "official":
                            paths.append(item[1])
                            continue
                        rel = f"images/listings/{i // 1000:04d}/{listing_id}-{k}.jpg"
                        if item[0] == "derived":
                            painter.derived(rel, item[1])
                        else:
                            painter.product(rel, *item[1:])
                        paths.append(rel)
                start = max(registered + 3600, _SNAPSHOT_END - _LISTING_WINDOW)
                created = start + int(rnd() * (_SNAPSHOT_END - start))
                record = {
                    "listing_id": listing_id, "marketplace": marketplace, "seller_id": seller_id, "title": title,
                    "description": description, "category": category, "price": price_in(usd, currency),
                    "currency": currency, "images": paths,
                    "created_at": datetime.fromtimestamp(created, _MARKET_TZ[marketplace]).isoformat(),
                }
                lines.append(encode(record))
                scenarios[case] += 1
                if labels_file is not None:
                    label_lines.append(encode({"listing_id": listing_id, "infringing": _INFRINGING[case],
                                               "brand_id": brand.brand_id if brand else None, "case": case}))
                if len(lines) >= 2000:
                    f.write("\n".join(lines) + "\n")
                    lines.clear()
                    if labels_file is not None:
                        labels_file.write("\n".join(label_lines) + "\n")
                        label_lines.clear()
            if lines:
                f.write("\n".join(lines) + "\n")
                if labels_file is not None:
                    labels_file.write("\n".join(label_lines) + "\n")
    finally:
        if labels_file is not None:
            labels_file.close()

    files = {"brands.jsonl": len(world.brands), "sellers.jsonl": n_sellers, "listings.jsonl": listings,
             "fx.json": len(FX), "images": painter.count if painter else 0}
    if labels is not None:
        files["labels"] = listings
    return GenerationSummary(out=out, files=files, scenarios=scenarios, rings=tuple(world.rings_ids),
                             exposed_rings=tuple(world.exposed))
