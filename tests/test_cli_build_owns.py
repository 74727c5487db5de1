"""The build owns only what it wrote: its manifest, and files it did not write left alone.

Real command throughout: ``python -m minivoice_flow build`` in a subprocess.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from minivoice_flow._cli._output import MANIFEST, Manifest
from tests.cli import flow_files, run_cli, snapshot, write_module
from tests.test_cli_build import GOOD, expected_files

PACKAGE = """
    from minivoice_flow import Flow

    MENU = Flow("menu").play("https://media.example.com/menu.wav").hangup()
    PACKAGE = Flow("package").hangup()
"""

#: GOOD with its "goodbye" flow made a nameless building block: no longer exported.
WITHOUT_GOODBYE = GOOD.replace('Flow("goodbye")', "Flow()")

#: A project's own files, some named like flow files.
PROJECT_FILES = {
    "package.json": b'{"name": "my-web-app", "private": true}\n',
    "tsconfig.json": b'{"compilerOptions": {}}\n',
    "README.md": b"# my web app\n",
}


def manifest(out: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((out / MANIFEST).read_bytes())
    return loaded


def sha256(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A web project's folder, with flows to export into the folder itself (``--out .``)."""
    for name, content in PROJECT_FILES.items():
        (tmp_path / name).write_bytes(content)
    write_module(tmp_path / "flows", "menu", GOOD)
    return tmp_path


def untouched(folder: Path) -> bool:
    return all((folder / name).read_bytes() == data for name, data in PROJECT_FILES.items())


class TestTheManifest:
    """The manifest lists every file the build wrote, with the SHA-256 of its bytes."""

    def test_it_records_exactly_what_was_written(self, tmp_path: Path) -> None:
        write_module(tmp_path / "flows", "menu", GOOD)
        ran = run_cli("build", "flows", "--out", "out", cwd=tmp_path)
        assert ran.code == 0, ran
        out = tmp_path / "out"
        written = expected_files(GOOD)
        assert manifest(out)["files"] == {name: sha256(data) for name, data in written.items()}
        assert manifest(out)["format"] == 1
        assert f"wrote {Path('out') / MANIFEST}" in ran.out

    def test_an_unchanged_build_rewrites_nothing_not_even_the_manifest(
        self, tmp_path: Path
    ) -> None:
        write_module(tmp_path / "flows", "menu", GOOD)
        assert run_cli("build", "flows", "--out", "out", cwd=tmp_path).code == 0
        before = snapshot(tmp_path / "out")
        assert run_cli("build", "flows", "--out", "out", cwd=tmp_path).code == 0
        assert snapshot(tmp_path / "out") == before

    def test_a_deleted_manifest_is_missing_for_check(self, tmp_path: Path) -> None:
        write_module(tmp_path / "flows", "menu", GOOD)
        assert run_cli("build", "flows", "--out", "out", cwd=tmp_path).code == 0
        (tmp_path / "out" / MANIFEST).unlink()
        ran = run_cli("build", "flows", "--out", "out", "--check", cwd=tmp_path)
        assert ran.code == 1
        assert f"{Path('out') / MANIFEST}: missing" in ran.out
        assert run_cli("build", "flows", "--out", "out", cwd=tmp_path).code == 0
        assert run_cli("build", "flows", "--out", "out", "--check", cwd=tmp_path).code == 0

    @pytest.mark.parametrize("replacing", [{}, {"b.json": sha256(b"old")}])
    @pytest.mark.parametrize("count", [0, 1, 3])
    def test_its_text_is_plain_indented_json(self, count: int, replacing: dict[str, str]) -> None:
        """Written by hand for speed, it is byte for byte what ``json.dumps`` would give."""
        files = {f"flow-{n}.json": sha256(bytes([n])) for n in reversed(range(count))}
        written = Manifest(files, replacing).to_bytes()
        document = json.loads(written)
        assert written == (json.dumps(document, indent=2) + "\n").encode()
        assert Manifest.from_bytes(written) == Manifest(files, replacing)
        assert list(document["files"]) == sorted(files)


class TestOtherFilesAreNeverRemoved:
    """A file the build did not write is never removed, whatever its name."""

    def test_out_dot_in_a_project_keeps_its_files(self, project: Path) -> None:
        ran = run_cli("build", "flows", "--out", ".", cwd=project)
        assert ran.code == 0, ran
        assert untouched(project)
        assert (project / "menu.json").read_bytes() == expected_files(GOOD)["menu.json"]
        # The first build into a folder without a manifest names what it left alone.
        assert "left alone package.json: the build did not write it" in ran.out
        # A flow that goes away takes its own file with it, and nothing else.
        write_module(project / "flows", "menu", WITHOUT_GOODBYE)
        again = run_cli("build", "flows", "--out", ".", cwd=project)
        assert again.code == 0, again
        assert "removed goodbye.json" in again.out
        assert "package.json" not in again.out
        assert untouched(project)
        assert sorted(manifest(project)["files"]) == ["menu.json"]  # type: ignore[call-overload]

    def test_a_file_the_build_wrote_then_someone_changed_is_kept(self, tmp_path: Path) -> None:
        write_module(tmp_path / "flows", "menu", GOOD)
        out = tmp_path / "out"
        assert run_cli("build", "flows", "--out", "out", cwd=tmp_path).code == 0
        (out / "goodbye.json").write_text("my own notes, saved over the built file\n")
        write_module(tmp_path / "flows", "menu", WITHOUT_GOODBYE)
        check = run_cli("build", "flows", "--out", "out", "--check", cwd=tmp_path)
        assert check.code == 1
        assert f"{Path('out') / 'goodbye.json'}: to be kept (no flow produces it now" in check.out
        ran = run_cli("build", "flows", "--out", "out", cwd=tmp_path)
        assert ran.code == 0, ran
        assert (out / "goodbye.json").read_text() == "my own notes, saved over the built file\n"
        assert (
            f"kept {Path('out') / 'goodbye.json'}: no flow produces it now, but it was changed "
            "after the build wrote it"
        ) in ran.out
        assert "goodbye.json" not in manifest(out)["files"]  # type: ignore[operator]
        assert run_cli("build", "flows", "--out", "out", "--check", cwd=tmp_path).code == 0

    def test_a_left_over_replaced_by_a_link_is_kept_and_its_target_too(
        self, tmp_path: Path
    ) -> None:
        write_module(tmp_path / "flows", "menu", GOOD)
        out = tmp_path / "out"
        assert run_cli("build", "flows", "--out", "out", cwd=tmp_path).code == 0
        target = tmp_path / "precious.json"
        target.write_bytes((out / "goodbye.json").read_bytes())  # even the same bytes
        (out / "goodbye.json").unlink()
        (out / "goodbye.json").symlink_to(target)
        write_module(tmp_path / "flows", "menu", WITHOUT_GOODBYE)
        ran = run_cli("build", "flows", "--out", "out", cwd=tmp_path)
        assert ran.code == 0, ran
        assert (out / "goodbye.json").is_symlink()
        assert target.exists()
        assert "it is a symbolic link" in ran.out


class TestAFlowNamedLikeAnotherFile:
    """A flow whose file name is taken by a file the build did not write stops the build:
    nothing is written, and the message names the file and the flow."""

    def test_package_json_in_out_dot(self, project: Path) -> None:
        write_module(project / "flows", "menu", PACKAGE)
        before = snapshot(project)
        ran = run_cli("build", "flows", "--out", ".", cwd=project)
        assert ran.code == 1
        assert (
            'package.json: error: not replaced: flow "package" needs this file name, but '
            "nothing records that the build wrote it"
        ) in ran.out
        assert "nothing was written to ." in ran.out
        assert snapshot(project) == before

    def test_a_file_not_in_the_manifest_of_a_built_directory(self, project: Path) -> None:
        assert run_cli("build", "flows", "--out", ".", cwd=project).code == 0
        write_module(project / "flows", "menu", PACKAGE)
        before = snapshot(project)
        ran = run_cli("build", "flows", "--out", ".", cwd=project)
        assert ran.code == 1
        assert "but the build did not write it (its manifest does not list it)" in ran.out
        assert snapshot(project) == before

    def test_a_built_file_changed_by_hand(self, tmp_path: Path) -> None:
        write_module(tmp_path / "flows", "menu", GOOD)
        out = tmp_path / "out"
        assert run_cli("build", "flows", "--out", "out", cwd=tmp_path).code == 0
        (out / "menu.json").write_text('{"actions":[{"hangup":{}}]}')  # a hand edit
        write_module(tmp_path / "flows", "menu", GOOD.replace("menu.wav", "welcome.wav"))
        before = snapshot(out)
        ran = run_cli("build", "flows", "--out", "out", cwd=tmp_path)
        assert ran.code == 1
        assert (
            f'{Path("out") / "menu.json"}: error: not replaced: flow "menu" needs this file '
            "name, but it was changed after the build wrote it"
        ) in ran.out
        assert snapshot(out) == before
        check = run_cli("build", "flows", "--out", "out", "--check", cwd=tmp_path)
        assert check.code == 1
        assert "it was changed after the build wrote it" in check.out

    @pytest.mark.parametrize("kind", ["link to a file", "link to nowhere", "pipe", "directory"])
    def test_something_other_than_a_file(self, tmp_path: Path, kind: str) -> None:
        """A link is not followed (its target is safe), and a pipe is never opened for
        reading, so it cannot hang the build."""
        write_module(tmp_path / "flows", "menu", GOOD)
        out = tmp_path / "out"
        out.mkdir()
        target = tmp_path / "target.json"
        target.write_bytes(expected_files(GOOD)["menu.json"])  # what the build would write
        if kind == "link to a file":
            (out / "menu.json").symlink_to(target)
        elif kind == "link to nowhere":
            (out / "menu.json").symlink_to(tmp_path / "nowhere.json")
        elif kind == "pipe":
            os.mkfifo(out / "menu.json")
        else:
            (out / "menu.json").mkdir()
        before = snapshot(out) if kind != "pipe" else None
        ran = run_cli("build", "flows", "--out", "out", cwd=tmp_path)
        assert ran.code == 1
        assert f'{Path("out") / "menu.json"}: error: not replaced: flow "menu"' in ran.out
        assert target.read_bytes() == expected_files(GOOD)["menu.json"]
        assert sorted(p.name for p in out.iterdir()) == ["menu.json"]
        if before is not None:
            assert snapshot(out) == before


class TestAnEarlierReleasesOutput:
    """A directory built before the manifest existed: the build takes only the files that
    already hold exactly what it would write, and leaves the rest to the user."""

    @staticmethod
    def earlier_output(tmp_path: Path) -> Path:
        """out/ as a build of an earlier release left it: no manifest, and a retired flow."""
        out = tmp_path / "out"
        out.mkdir()
        for name, data in expected_files(GOOD).items():
            (out / name).write_bytes(data)
        (out / "retired.json").write_text('{"actions":[{"hangup":{}}]}')
        write_module(tmp_path / "flows", "menu", GOOD)
        return out

    def test_identical_files_are_taken_over_and_the_rest_left_alone(self, tmp_path: Path) -> None:
        out = self.earlier_output(tmp_path)
        before = snapshot(out)
        check = run_cli("build", "flows", "--out", "out", "--check", cwd=tmp_path)
        assert check.code == 1
        assert f"{Path('out') / MANIFEST}: missing" in check.out
        ran = run_cli("build", "flows", "--out", "out", cwd=tmp_path)
        assert ran.code == 0, ran
        assert "0 written, 2 unchanged, 0 removed" in ran.out
        assert f"left alone {Path('out') / 'retired.json'}: the build did not write it" in ran.out
        after = snapshot(out)
        assert after.pop(MANIFEST)
        assert after == before  # the same files, not even rewritten
        assert sorted(manifest(out)["files"]) == ["goodbye.json", "menu.json"]  # type: ignore[call-overload]

    def test_a_file_that_differs_stops_the_build_until_the_user_removes_it(
        self, tmp_path: Path
    ) -> None:
        out = self.earlier_output(tmp_path)
        write_module(tmp_path / "flows", "menu", GOOD.replace("bye.wav", "farewell.wav"))
        before = snapshot(out)
        ran = run_cli("build", "flows", "--out", "out", cwd=tmp_path)
        assert ran.code == 1
        assert f"{Path('out') / 'goodbye.json'}: error: not replaced" in ran.out
        assert "if it is an old build output, delete it" in ran.out
        assert snapshot(out) == before
        (out / "goodbye.json").unlink()
        assert run_cli("build", "flows", "--out", "out", cwd=tmp_path).code == 0
        assert flow_files(out) == ["goodbye.json", "menu.json", "retired.json"]


class TestAManifestNotToBeTrusted:
    """A manifest the build cannot read, or that names files outside the flows' names, stops
    the build before anything is touched."""

    @pytest.mark.parametrize(
        "text",
        [
            "not json",
            '{"format": 2, "files": {}}',
            '{"format": 1, "files": {"../victim.json": "sha256:' + "0" * 64 + '"}}',
            '{"format": 1, "files": {"package.json": "md5:abc"}}',
            '{"format": 1, "files": []}',
        ],
        ids=["not JSON", "another format", "a path outside", "not a digest", "not a mapping"],
    )
    def test_nothing_is_touched(self, tmp_path: Path, text: str) -> None:
        write_module(tmp_path / "flows", "menu", WITHOUT_GOODBYE)
        out = tmp_path / "out"
        out.mkdir()
        victim = tmp_path / "victim.json"
        victim.write_text("{}")
        (out / "package.json").write_text("{}")
        (out / MANIFEST).write_text(text)
        before = snapshot(out)
        ran = run_cli("build", "flows", "--out", "out", cwd=tmp_path)
        assert ran.code == 1
        assert f"{Path('out') / MANIFEST}: error: the build manifest cannot be read" in ran.out
        assert snapshot(out) == before
        assert victim.exists()

    def test_a_manifest_that_is_a_link(self, tmp_path: Path) -> None:
        write_module(tmp_path / "flows", "menu", GOOD)
        assert run_cli("build", "flows", "--out", "built", cwd=tmp_path).code == 0
        out = tmp_path / "out"
        out.mkdir()
        (out / MANIFEST).symlink_to(tmp_path / "built" / MANIFEST)
        ran = run_cli("build", "flows", "--out", "out", cwd=tmp_path)
        assert ran.code == 1
        assert "it is a symbolic link" in ran.out
        assert flow_files(out) == []
