#!/usr/bin/env python3
"""Tests of tools/doc_blocks.py on the small pages of tests/docs/inputs (ctest docs.tool).

DOC_BLOCKS_CXX names the C++ compiler for the tests that compile generated code (skipped when
it is not set); the tool is found next to this repository's root, or at DOC_BLOCKS_TOOL.
"""

import contextlib
import importlib.util
import io
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = pathlib.Path(__file__).resolve().parent
INPUTS = HERE / "inputs"
TOOL = pathlib.Path(os.environ.get("DOC_BLOCKS_TOOL", HERE.parents[1] / "tools" / "doc_blocks.py"))
CXX = os.environ.get("DOC_BLOCKS_CXX", "")
CXX_FLAGS = ["-std=c++20", "-fsyntax-only", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
             "-Wno-unused-variable", "-Wno-unused-but-set-variable"]


def load_tool():
    spec = importlib.util.spec_from_file_location("doc_blocks", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


doc_blocks = load_tool()


def run_tool(*args):
    """Runs the tool's main(); returns (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = doc_blocks.main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


def block(code):
    return doc_blocks.Block("page.md", 1, 2, code.strip("\n").split("\n"))


def parse_error(text):
    """The message of the DocError that parsing `text` raises."""
    try:
        doc_blocks.parse_page("page.md", text)
    except doc_blocks.DocError as error:
        return str(error)
    raise AssertionError(f"no error for {text!r}")


class ScopeTest(unittest.TestCase):
    """Where a block's code goes, decided from its top level."""

    def test_declarations_stay_in_the_namespace(self):
        for code in ("WireframeServer server(app);",
                     "auto app = WireframeApp<>().route(1, [](Envelope& r) { co_return r; });",
                     "struct Hello { int x; };\nusing App = int;\nstatic_assert(true);",
                     "asio::awaitable<void> f() { co_await g(); if (x) {} }",
                     'auto s = "server.run(); co_await";  // co_await in a comment',
                     "std::array<std::byte, 1> answer;\nconstexpr int n = 1'000;"):
            with self.subTest(code=code):
                self.assertEqual(doc_blocks.scope_of(block(code)), "namespace")

    def test_statements_make_a_function(self):
        for code in ("server.run();", "files.cert_file = \"a\";", "wireframe::set_logger(x);",
                     "while (auto l = q.try_receive()) {\n}", "std::cout << 1;",
                     "[](int) { return 1; };", "(void)x;", "++n;", "registry->size();"):
            with self.subTest(code=code):
                self.assertEqual(doc_blocks.scope_of(block(code)), "function")

    def test_top_level_co_await_makes_a_coroutine(self):
        for code in ("co_await client.connect(endpoint);",
                     "WireframeClient<> client(co_await asio::this_coro::executor);",
                     "auto [ec, reply] = co_await client.call(x);"):
            with self.subTest(code=code):
                self.assertEqual(doc_blocks.scope_of(block(code)), "coroutine")

    def test_foreign_specialisation_is_global(self):
        code = "struct P {};\ntemplate <>\nstruct wireframe::message_traits<P> {};"
        self.assertEqual(doc_blocks.scope_of(block(code)), "global")


class MarkerTest(unittest.TestCase):
    """Markers are checked where they are written."""

    def test_the_test_page(self):
        blocks = doc_blocks.parse_page("docs/guide.md",
                                       (INPUTS / "docs" / "guide.md").read_text())
        self.assertEqual([b.kind for b in blocks], ["compiled"] * 6 + ["fragment", "snippet"])
        self.assertEqual([doc_blocks.scope_of(b) for b in blocks[:6]],
                         ["namespace", "namespace", "namespace", "function", "global",
                          "namespace"])
        self.assertEqual(blocks[3].prelude.code, [" // a hidden declaration", "int counter = 0;",
                                                  ""])
        self.assertEqual((blocks[6].name, blocks[6].reason),
                         ("one-call", "a single argument of a call"))
        self.assertEqual(blocks[7].snippet, ("snippet_source.cpp", "add"))

    def test_malformed_markers_are_errors_at_their_line(self):
        cases = {
            "<!-- fragment: no name -->\n```cpp\nx\n```\n": "page.md:1: error: a fragment marker",
            "<!-- fragment f -->\n```cpp\nx\n```\n": "page.md:1: error: a fragment marker",
            "\n<!-- fragmnet f: typo -->\n```cpp\nx\n```\n": "page.md:2: error: unknown marker",
            "<!-- fragment f: gap -->\n\n```cpp\nx\n```\n": "page.md:1: error: 'fragment' marker",
            "<!-- prelude: int x; -->\n```sh\nx\n```\n": "page.md:1: error: 'prelude' marker",
            "<!-- snippet: a.cpp -->\n```cpp\nx\n```\n": "page.md:1: error: a snippet marker",
            ("<!-- fragment f: a -->\n```cpp\nx\n```\n<!-- fragment f: b -->\n```cpp\ny\n```\n"):
                "page.md:5: error: fragment name 'f' used twice",
            "<!-- prelude: int x;\n": "page.md:1: error: HTML comment is not closed",
        }
        for text, message in cases.items():
            with self.subTest(text=text):
                self.assertIn(message, parse_error(text))

    def test_other_comments_are_prose(self):
        text = "<!-- a note for editors -->\n\ntext\n\n```cpp\nint x;\n```\n"
        self.assertEqual(len(doc_blocks.parse_page("page.md", text)), 1)


class GenerateTest(unittest.TestCase):
    """The generated translation unit."""

    def setUp(self):
        self.tmp = pathlib.Path(tempfile.mkdtemp())

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def generate(self, root, page, tls=False):
        out = self.tmp / "out" / (pathlib.Path(page).name + ".cpp")
        args = ["generate", "--root", root, "--page", page, "--out", out]
        if tls:
            args += ["--tls-out", out.with_suffix(".tls.cpp")]
        status, _, err = run_tool(*args)
        self.assertEqual(status, 0, err)
        return out

    def compile(self, source):
        return subprocess.run([CXX, *CXX_FLAGS, str(source)], capture_output=True, text=True)

    def test_includes_hoisted_lines_kept(self):
        text = self.generate(INPUTS, "docs/guide.md").read_text()
        lines = text.split("\n")
        self.assertEqual(lines[3:6], ["#include <string>", "#include <vector>",
                                      "#include <functional>"])
        page = str((INPUTS / "docs" / "guide.md").resolve())
        first = lines.index(f'#line 6 "{page}"')  # the fence is line 5
        self.assertEqual(lines[first + 1], "")      # where the #include was
        self.assertEqual(lines[first + 3], "struct Greeter {")
        self.assertIn("namespace doc_guide_1::doc_guide_2::doc_guide_3 {", lines)
        self.assertNotIn('.add("pear")', text)      # the fragment
        self.assertNotIn("void add(", text)         # the snippet

    def test_tls_blocks_go_to_their_own_unit(self):
        page = self.tmp / "tls.md"
        page.write_text("```cpp\nint plain;\n```\n\n```cpp\n#include <wireframe/tls.hpp>\n"
                        "int secure;\n```\n\n<!-- prelude: #include <wireframe/tls.hpp> -->\n"
                        "```cpp\nint also_secure;\n```\n")
        out = self.generate(self.tmp, "tls.md", tls=True)
        plain, tls = out.read_text(), out.with_suffix(".tls.cpp").read_text()
        self.assertIn("int plain;", plain)
        self.assertNotIn("secure", plain)
        self.assertIn("int secure;", tls)
        self.assertIn("int also_secure;", tls)
        self.assertNotIn("plain", tls)

    @unittest.skipUnless(CXX, "DOC_BLOCKS_CXX is not set")
    def test_generated_unit_compiles(self):
        result = self.compile(self.generate(INPUTS, "docs/guide.md"))
        self.assertEqual(result.returncode, 0, result.stderr)
        result = self.compile(INPUTS / "snippet_source.cpp")
        self.assertEqual(result.returncode, 0, result.stderr)

    @unittest.skipUnless(CXX, "DOC_BLOCKS_CXX is not set")
    def test_errors_point_at_the_page(self):
        page = self.tmp / "broken.md"
        page.write_text("# Broken\n\n```cpp\n#include <string>\n\nstd::string s = 42;\n```\n")
        result = self.compile(self.generate(self.tmp, "broken.md"))
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(f"{page.resolve()}:6:", result.stderr)


class CheckTest(unittest.TestCase):
    """The check command: snippets, fragments, and the build's generated units."""

    def test_passes_and_lists_fragments_and_snippets(self):
        status, out, err = run_tool("check", "--root", INPUTS, "docs/guide.md")
        self.assertEqual(status, 0, err)
        self.assertIn("docs/guide.md: 8 C++ blocks: 6 compiled, 1 snippet, 1 fragment", out)
        self.assertIn("fragment one-call (line 58): a single argument of a call", out)
        self.assertIn("snippet snippet_source.cpp#add (line 65): matches", out)

    def test_snippet_mismatch_fails_and_says_which(self):
        status, _, err = run_tool("check", "--root", INPUTS, "docs/mismatch.md")
        self.assertEqual(status, 1)
        self.assertIn("docs/mismatch.md:4: error: the block differs from snippet "
                      "snippet_source.cpp#basket", err)
        self.assertIn("-  void add(std::string item) { items.push_back(std::move(item)); }", err)
        self.assertIn("+  void add(const std::string& item) { items.push_back(item); }", err)

    def test_missing_snippet_is_an_error(self):
        tmp = pathlib.Path(tempfile.mkdtemp())
        try:
            (tmp / "p.md").write_text("<!-- snippet: nowhere.cpp#x -->\n```cpp\nx\n```\n")
            status, _, err = run_tool("check", "--root", tmp, "p.md")
            self.assertEqual(status, 1)
            self.assertIn("p.md:2: error: snippet nowhere.cpp#x: snippet source nowhere.cpp does "
                          "not exist", err)
        finally:
            shutil.rmtree(tmp)

    def test_generated_units_must_be_current(self):
        tmp = pathlib.Path(tempfile.mkdtemp())
        try:
            shutil.copytree(INPUTS, tmp / "root")
            root, out = tmp / "root", tmp / "out"
            run_tool("generate", "--root", root, "--page", "docs/guide.md",
                     "--out", out / "guide.md.cpp")
            status, _, err = run_tool("check", "--root", root, "--generated", out, "docs/guide.md")
            self.assertEqual(status, 0, err)
            page = root / "docs" / "guide.md"
            page.write_text(page.read_text().replace("int counter = 0;", "int counter = 1;"))
            status, _, err = run_tool("check", "--root", root, "--generated", out, "docs/guide.md")
            self.assertEqual(status, 1)
            self.assertIn("guide.md.cpp differs from what the page gives now", err)
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main(verbosity=2)
