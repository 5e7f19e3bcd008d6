from click.testing import CliRunner

import aster_account
from aster_account.cli import main


def test_version_is_exported_and_cli_reports_it() -> None:
    assert "__version__" in aster_account.__all__
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert aster_account.__version__ in result.output
