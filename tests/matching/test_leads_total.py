"""The total of ``GET /api/v1/leads`` is counted apart from the page (on the matches indexes): it must
equal the number of leads the pages hold, for every filter, also when rows of a product that is not
published any more linger, and a project leaving the library takes its leads with it."""

import pytest

from support.flows import approved_project, published_product, web_login

P = "/api/v1/projects"




def every_lead(client, headers, query=""):
    """(total, leads of all pages) for a query, two per page."""
    page, items, total = 1, [], None
    while True:
        body = client.get(f"/api/v1/leads?per_page=2&page={page}&{query}", headers=headers).get_json()
        total = body["total"]
        items += body["items"]
        if len(body["items"]) < 2:
            return total, items
        page += 1


QUERIES = ["", "instrument=green_credit", "instrument=green_bond", "instrument=reits", "min_score=0.3",
           "min_score=0.6", "region=130000", "region=130700", "region=320000", "category=4", "category=4.2",
           "category=6", "instrument=green_credit&min_score=0.3&region=130000"]


@pytest.fixture
def leads_world(client, auth, f):
    owner, bureau = f.enterprise_user(region_code="130700"), f.bureau_user(region_code="130000")
    bank = f.institution_user(region_code="130000", name="河北银行")
    products = {
        "general": published_product(client, auth, bank, instrument="green_credit", name="绿色贷", params={}),
        "hebei": published_product(client, auth, bank, instrument="green_credit", name="冀光伏贷",
                                   params={"regions": ["130000"], "categories": ["4.2"]}),
        "bond": published_product(client, auth, bank, instrument="green_bond", name="绿色债",
                                  params={"min_amount_cny": 1e7}),
    }
    projects = [
        approved_project(client, auth, owner, bureau),
        approved_project(client, auth, owner, bureau, name="承德风电场", region_code="130800", categories=["4.2.1"],
                         industry_code="4415"),
        approved_project(client, auth, owner, bureau, name="石家庄污水处理厂提标改造", region_code="130100",
                         industry_code="4620", categories=["6.4.7"], risk_exposures=[], collateral=[],
                         benefits={}),
        approved_project(client, auth, owner, bureau, name="唐山余热发电", region_code="130200", industry_code="4411",
                         categories=["1.3.1"], benefits={"energy_saving_tce": 5_000}),
    ]
    return {"bank": bank, "headers": auth(bank), "products": products, "projects": projects}


def test_total_equals_the_leads_of_all_pages_for_every_filter(client, leads_world):
    headers = leads_world["headers"]
    total, items = every_lead(client, headers)
    assert total == len(items) > 4  # several products per project
    assert len({item["match_id"] for item in items}) == len(items)
    for query in QUERIES + [f"product_id={q}" for q in leads_world["products"].values()]:
        total, items = every_lead(client, headers, query)
        assert total == len(items), query


def test_rows_of_a_product_no_longer_published_are_not_counted(client, auth, leads_world, app_ctx):
    from greenmatch.extensions import db
    from greenmatch.matching import service
    from greenmatch.matching.models import Match
    from greenmatch.products.models import Product

    headers, product = leads_world["headers"], leads_world["products"]["bond"]
    before, _ = every_lead(client, headers)
    columns = ("generation", "project_id", "product_id", "institution_id", "instrument", "score", "for_project",
               "for_product")
    kept = [{c: getattr(m, c) for c in columns} for m in db.session.scalars(db.select(Match).where(
        Match.product_id == product, Match.generation == service.current_generation()))]
    assert kept and any(m["for_product"] for m in kept)
    assert client.post(f"/api/v1/products/{product}/withdraw", headers=headers).status_code == 200
    # rows that linger (e.g. between the withdrawal and its re-match): still no leads, not counted
    db.session.add_all(Match(**m, reasons=[], paths=[]) for m in kept)
    db.session.commit()
    assert db.session.get(Product, product).status == "withdrawn"
    for query in ["", "instrument=green_bond", "min_score=0.3", f"product_id={product}"]:
        total, items = every_lead(client, headers, query)
        assert total == len(items), query
        assert product not in {item["product"]["id"] for item in items}
    assert every_lead(client, headers)[0] == before - sum(m["for_product"] for m in kept)


def test_a_project_leaving_the_library_takes_its_leads_with_it(client, leads_world, app_ctx):
    from greenmatch import signals
    from greenmatch.catalog.models import Project
    from greenmatch.extensions import db

    headers, pid = leads_world["headers"], leads_world["projects"][1]
    before, items = every_lead(client, headers)
    own = sum(item["project"]["id"] == pid for item in items)
    assert own
    withdrawn = db.session.get(Project, pid)
    withdrawn.status = "returned"
    db.session.commit()
    signals.project_withdrawn.send(withdrawn)
    total, items = every_lead(client, headers)
    assert total == len(items) == before - own
    assert pid not in {item["project"]["id"] for item in items}


def test_the_leads_page_and_the_product_page_show_the_api_total(client, leads_world):
    headers, hebei = leads_world["headers"], leads_world["products"]["hebei"]
    web_login(client, leads_world["bank"].email)
    pairs = [("", ""), ("instrument=green_credit", "instrument=green_credit"), ("min_score=0.3", "min_score=0.3"),
             ("region=130800", "region_province=130000&region_city=130800"),
             ("category=4.2", "level1=4&level2=4.2"), (f"product_id={hebei}", f"product_id={hebei}")]
    for api_query, page_query in pairs:
        total = client.get(f"/api/v1/leads?{api_query}", headers=headers).get_json()["total"]
        html = client.get(f"/leads?{page_query}").get_data(as_text=True)
        assert f"{total} 条线索" in html, page_query
    hebei_total = client.get(f"/api/v1/leads?product_id={hebei}", headers=headers).get_json()["total"]
    assert hebei_total > 0
    assert f"{hebei_total} 条线索" in client.get(f"/products/{hebei}").get_data(as_text=True)
