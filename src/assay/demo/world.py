"""A small marketplace world: brands, their owners, sellers honest and not, and listings.

Every name is invented. The counterfeit ring writes its shared phone, email and payment
account differently on each account, as rings do to slip past exact matching."""

from __future__ import annotations

from dataclasses import dataclass, field

from assay.domain.identity import TraderIdentity

MARKETPLACE = "bazaar"


@dataclass(frozen=True)
class DemoBrand:
    ref: str
    name: str
    owner: str
    email: str
    marks: list[str]
    categories: list[str]
    office: str
    registration: str
    products: list[dict[str, object]]
    authorized: list[str] = field(default_factory=list)


BRANDS = [
    DemoBrand(
        ref="quorvex", name="Quorvex", owner="Quorvex Sports Ltd", email="brand-protection@quorvex.example",
        marks=["QUORVEX", "QVX"], categories=["footwear", "bags"], office="EUIPO", registration="018000001",
        products=[
            {"sku": "QVX-RUN-1", "title": "Quorvex Stride 1 running shoe", "category": "footwear", "msrp": "149.00",
             "currency": "EUR", "images": ["images/quorvex/stride1.jpg"]},
            {"sku": "QVX-BAG-7", "title": "Quorvex Voyager 7 backpack", "category": "bags", "msrp": "119.00",
             "currency": "EUR", "images": ["images/quorvex/voyager7.jpg"]},
        ],
        authorized=["s-northstar-sports"],
    ),
    DemoBrand(
        ref="tessaline", name="Tessaline", owner="Maison Tessaline SA", email="legal@tessaline.example",
        marks=["TESSALINE"], categories=["cosmetics", "fragrance"], office="INPI", registration="4812345",
        products=[
            {"sku": "TSL-EDP-50", "title": "Tessaline Nuit eau de parfum 50 ml", "category": "fragrance",
             "msrp": "98.00", "currency": "EUR", "images": ["images/tessaline/nuit50.jpg"]},
        ],
    ),
]

RING_PHONE = ["+86 138 0013 8000", "0086-13800138000", "(+86) 13800138000"]


def _identity(name: str, email: str, phone: str, address: str, tax_id: str, payment: str) -> TraderIdentity:
    return TraderIdentity(legal_name=name, email=email, phone=phone, address=address, tax_id=tax_id,
                          payment_account=payment)


SELLERS = {
    "s-northstar-sports": ("Northstar Sports (authorised Quorvex dealer)", _identity(
        "Northstar Sports GmbH", "orders@northstar.example", "+49 30 901820", "Torstrasse 5, 10119 Berlin",
        "DE 811 223 344", "DE89 3704 0044 0532 0130 00")),
    "s-second-life": ("Second Life Vintage", _identity(
        "Ana Ferreira", "ana.ferreira@mail.example", "+351 912 345 678", "Rua das Flores 12, Porto",
        "PT 234 567 890", "PT50 0002 0123 1234 5678 9015 4")),
    "s-glowhub": ("GlowHub Beauty", _identity(
        "GlowHub Trading Ltd", "sales@glowhub.example", "+44 20 7946 0958", "14 Market Street, Leeds",
        "GB 123 4567 89", "GB29 NWBK 6016 1331 9268 19")),
    # The ring: one operator behind three storefronts.
    "s-luxdeals": ("LuxDeals Outlet", _identity(
        "Chen Wei", "topdeals.shop+lux@gmail.com", RING_PHONE[0], "Room 1203, 88 Huaqiang Road, Shenzhen",
        "91440300MA5F000001", "6222 0212 3456 7890")),
    "s-brandhouse": ("Brand House Direct", _identity(
        "Wei Chen", "TopDeals.Shop@gmail.com", RING_PHONE[1], "88 Huaqiang Rd., Room 1203, Shenzhen",
        None, "6222-0212-3456-7891")),
    "s-factory-direct": ("Factory Direct 2026", _identity(
        "Lin Mei", "factory.direct@mail.example", "+86 139 2222 3333", "Futian District, Shenzhen",
        None, "6222 0212 3456 7890")),
    "s-quickship": ("QuickShip Goods", _identity(
        "Omar Haddad", "quickship@mail.example", "+212 612 345 678", "Derb Sidi, Casablanca", None,
        "MA64 0115 1900 0001 2050 0053 4921")),
}

# (listing_ref, seller_ref, title, category, price, currency)
LISTINGS = [
    ("L-1001", "s-northstar-sports", "Quorvex Stride 1 running shoe, all sizes", "footwear", "149.00", "EUR"),
    ("L-1002", "s-northstar-sports", "Quorvex Voyager 7 backpack, black", "bags", "119.00", "EUR"),
    ("L-1003", "s-second-life", "Quorvex Stride 1, worn twice, size 42, original box", "footwear", "70.00", "EUR"),
    ("L-1004", "s-luxdeals", "QUORVEX Stride 1 replica AAA top quality", "footwear", "19.90", "USD"),
    ("L-1005", "s-luxdeals", "Q-V-X Voyager backpack 1:1 mirror quality", "bags", "15.00", "USD"),
    ("L-1006", "s-luxdeals", "Quorvex running shoes wholesale lot", "footwear", "9.50", "USD"),
    ("L-1007", "s-luxdeals", "QU0RVEX Stride sneakers factory original", "footwear", "22.00", "USD"),
    ("L-1008", "s-brandhouse", "Quorvex Voyager 7 backpack super copy", "bags", "98.00", "CNY"),
    ("L-1009", "s-factory-direct", "Quorvex Stride 1 same factory version", "footwear", "120.00", "CNY"),
    ("L-1010", "s-quickship", "QVX Stride running shoe cheap", "footwear", "24.00", "USD"),
    ("L-2001", "s-glowhub", "Tessaline Nuit eau de parfum 50ml tester", "fragrance", "21.00", "GBP"),
    ("L-2002", "s-glowhub", "Tessaline Nuit inspired dupe fragrance", "fragrance", "12.00", "GBP"),
    ("L-2003", "s-second-life", "Tessaline Nuit 50 ml, opened, 80% full", "fragrance", "45.00", "EUR"),
]

# Small sellers whose counterfeits Quorvex reported over past months: its track record.
HISTORY = [(f"s-past-{n:02d}", f"L-9{n:03d}", f"Quorvex Stride replica lot {n}") for n in range(1, 21)]
