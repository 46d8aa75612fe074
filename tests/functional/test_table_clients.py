"""pynamodb's per-table botocore sessions share one parsed copy of botocore's data (chalicelib/adapters/tables.py):
a request touching a second table no longer parses the endpoints and the DynamoDB model again on a cold start."""


def test_tables_keep_their_own_sessions_and_clients_but_share_the_parsed_data(services, demo):
    from chalicelib.adapters.tables import BusinessTable, ComplaintTable, OutletTable

    connections = [table._get_connection().connection for table in (OutletTable, ComplaintTable, BusinessTable)]
    clients = [c.client for c in connections]  # made now if no request made them yet
    assert len({id(c.session) for c in connections}) == 3, "botocore sessions are not thread-safe: one per table"
    assert len({id(c) for c in clients}) == 3
    loaders = {id(c.session.get_component("data_loader")) for c in connections}
    assert len(loaders) == 1
    # the DynamoDB model was parsed once: every table's client was built from the very same parsed document
    descriptions = {id(c.meta.service_model._service_description) for c in clients}
    assert len(descriptions) == 1


def test_reads_and_writes_through_tables_sharing_the_data_still_work(services, demo):
    code = demo["outlets"][0]["code"]
    outlet = services.outlets.get(code)
    assert outlet is not None and outlet.code == code
    assert services.businesses.get(outlet.business_bin).bin == outlet.business_bin
