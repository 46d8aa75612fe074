"""The queues later issues read are already served by indexes: Query, never Scan."""
import json


def _submit(client, body):
    response = client.http.post("/complaints", body=json.dumps(body), headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.body
    return response.json_body["id"]


def test_agency_region_business_and_deadline_queues(client, demo, services):
    from chalicelib.adapters.tables import ComplaintTable

    astana = next(o for o in demo["outlets"] if o["region"] == "71" and o["sector"] == "grocery")
    almaty = next(o for o in demo["outlets"] if o["region"] == "75")
    text = "На кассе обсчитали: пробили товар дважды, деньги вернуть отказались."
    contact = {"name": "Айдос", "phone": "+77011234567"}
    first = _submit(client, {"outlet_code": astana["code"], "text": text, "category": "overcharge", "contact": contact})
    second = _submit(client, {"outlet_code": almaty["code"], "text": text, "category": "overcharge"})
    third = _submit(client, {"outlet_code": astana["code"], "text": text, "category": "overcharge"})
    # an agency's queue, oldest first, with a cursor for "new since my last poll"
    queue = [c.id for c in ComplaintTable.agency_queue.query("kzpp")]
    assert queue == [first, second, third]
    cursor = ComplaintTable.get(first).change_key
    assert [c.id for c in ComplaintTable.agency_queue.query("kzpp", ComplaintTable.change_key > cursor)] == [second, third]
    # a regional department sees only its region
    assert [c.id for c in ComplaintTable.agency_region_queue.query("kzpp#71")] == [first, third]
    # a business sees its own complaints
    assert {c.id for c in ComplaintTable.business_queue.query(astana["business_bin"])} >= {first, third}
    # the sweeper's sparse index holds every open complaint with a deadline still to watch, by that deadline
    assert {c.id for c in ComplaintTable.open_by_due.query("open")} == {first, second, third}
