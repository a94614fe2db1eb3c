"""Institutions hear of new leads: an approved project tells each institution how many of its products it
matches; a published product tells its institution how many projects it matched."""

from support.flows import approved_project, published_product


def test_an_approval_tells_each_institution_how_many_of_its_products_match(client, auth, f):
    owner, bureau = f.enterprise_user(region_code="130700"), f.bureau_user(region_code="130000")
    bank, other = f.institution_user(region_code="130000", name="河北银行"), f.institution_user(name="全国性银行")
    for name, instrument in (("冀绿贷", "green_credit"), ("冀绿债", "green_bond")):
        published_product(client, auth, bank, instrument=instrument, name=name, params={})
    published_product(client, auth, other, instrument="green_credit", name="绿贷", params={})
    approved_project(client, auth, owner, bureau, name="张家口光伏电站项目")

    def approval_notes(user):
        inbox = client.get("/api/v1/notifications?lang=en", headers=auth(user)).get_json()["items"]
        return [n["title"] for n in inbox if n["kind"] == "new_leads" and "Newly approved" in n["title"]]

    assert approval_notes(bank) == ["Newly approved project “张家口光伏电站项目” matches 2 of your products"]
    assert approval_notes(other) == ["Newly approved project “张家口光伏电站项目” matches 1 of your products"]
