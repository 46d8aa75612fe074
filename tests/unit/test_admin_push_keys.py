"""`python -m tools.admin push-keys`: a VAPID pair whose halves match, the private one only in a 0600 file."""
import io
import os
import stat

import pytest

from chalicelib.adapters.webpush import application_server_key
from chalicelib.domain.p256 import public_key_point
from tools import admin


def test_a_pair_is_written_and_the_commands_printed(tmp_path, capsys):
    out = tmp_path / "vapid.txt"
    assert admin.main(["push-keys", "--stage", "prod", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    private = out.read_text().strip()
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    public = application_server_key(private)
    public_key_point(public)
    assert f'"VAPID_PUBLIC_KEY": "{public}"' in printed
    assert "--name /qalqan/prod/vapid-private-key --type SecureString" in printed
    assert private not in printed  # the secret half never reaches the terminal
    # a second run must not replace a key browsers may already have subscribed with
    with pytest.raises(SystemExit):
        admin.main(["push-keys", "--stage", "prod", "--out", str(out)])
    assert out.read_text().strip() == private


def test_the_public_half_of_an_existing_key(tmp_path, capsys, monkeypatch):
    private, public = admin.new_vapid_keys()
    monkeypatch.setattr("sys.stdin", io.StringIO(private + "\n"))
    assert admin.main(["push-keys", "--public-of", "-"]) == 0
    assert capsys.readouterr().out.strip() == public
    (tmp_path / "bad.txt").write_text("not a key")
    with pytest.raises(SystemExit):
        admin.main(["push-keys", "--public-of", str(tmp_path / "bad.txt")])
