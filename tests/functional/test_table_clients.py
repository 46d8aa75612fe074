"""pynamodb's tables share botocore's parsed data and, per thread and credentials, one botocore session
(chalicelib/adapters/tables.py): a request touching a second table no longer parses the endpoints and the DynamoDB
model again, nor registers botocore's handlers again, on a cold start; each table keeps its own client."""


def test_tables_keep_their_own_clients_but_share_the_session_and_the_parsed_data(services, demo):
    from chalicelib.adapters.tables import BusinessTable, ComplaintTable, OutletTable

    connections = [table._get_connection().connection for table in (OutletTable, ComplaintTable, BusinessTable)]
    clients = [c.client for c in connections]  # made now if no request made them yet
    # one session for the tables of this thread with the same credentials, one client (and event emitter) per table
    assert len({id(c.session) for c in connections}) == 1
    assert len({id(c) for c in clients}) == 3
    assert len({id(c.meta.events) for c in clients}) == 3
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


def test_a_session_is_never_shared_across_threads_or_credentials(services, demo):
    """botocore sessions are not thread-safe: another thread gets its own; other keys (the vault's) their own."""
    import threading

    import pynamodb.connection.base

    from chalicelib.adapters.tables import OutletTable

    here = OutletTable._get_connection().connection.session
    seen = {}

    def other_thread():
        seen["session"] = pynamodb.connection.base.Connection(region="eu-central-1").session

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert seen["session"] is not here
    with_keys = pynamodb.connection.base.Connection(region="eu-central-1", aws_access_key_id="AKIAVAULT",
                                                   aws_secret_access_key="vault-secret")
    assert with_keys.session is not here
    assert with_keys.session.get_credentials().access_key == "AKIAVAULT"
    assert pynamodb.connection.base.Connection(region="eu-central-1").session is here
