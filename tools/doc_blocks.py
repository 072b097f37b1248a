#!/usr/bin/env python3
"""Compile-check the C++ blocks of wireframe's documentation (README.md and docs/*.md).

Every fenced block whose info string is ``cpp`` or ``c++`` is one of three things:

compiled (the default)
    ``generate`` writes one C++ file per page, ``<page>.cpp``, which the build compiles
    (compile only: nothing is linked or run; cmake/WireframeDocCheck.cmake, option
    WIREFRAME_DOC_CHECK). In it:

    - every ``#include`` line of the page's blocks is hoisted to the top (the line is left
      blank in its block, so the block's other lines keep their numbers);
    - block n goes into ``namespace doc_<page>_<n>``, nested in the namespaces of the blocks
      above it (``namespace doc_p_1::doc_p_2::...::doc_p_n``): a block sees what the blocks above
      it declare, the way a reader reads the page, and a later ``auto app = ...`` hides an
      earlier one instead of clashing with it;
    - a block that does something at its top level (an ``if``, a call like ``server.run();``,
      an assignment like ``files.key_file = "server.key";``, a bare lambda) is compiled as the
      body of a function of its namespace, ``void doc_block()``, or ``asio::awaitable<void>
      doc_block()`` when it ``co_await``s, ``co_yield``s or ``co_return``s at its top level;
      what it declares is then local to it;
    - a block that specialises another namespace's template (``template <> struct
      fmt::formatter<T>``, ``wireframe::message_traits<T>``) cannot be in a namespace of ours:
      it is compiled at global scope, after using-directives for the namespaces of the blocks
      above it, and what it declares is seen by every block below;
    - ``int main()`` may end without a return statement, as the real one may;
    - ``#line`` directives make the compiler report errors at the page's own file and line;
    - a block that includes ``<wireframe/tls.hpp>`` (or a header under ``wireframe/tls/``),
      itself or through its prelude, needs wireframe::tls: it goes into the page's second file,
      ``<page>.tls.cpp``, compiled against wireframe::tls when the build has it (there it sees
      the page's TLS blocks above it and their preludes, not the others).

fragment
    Marked by ``<!-- fragment NAME: why it does not compile on its own -->`` on the line right
    before the opening fence. Skipped, and listed by page and NAME by ``check``. For a genuine
    fragment only (one step of a builder chain, say): anything that can be made to compile,
    should.

snippet
    Marked by ``<!-- snippet: PATH#NAME -->`` right before the fence: the block quotes the
    lines between ``// [snippet NAME]`` and ``// [end snippet NAME]`` of PATH (relative to the
    repository), a file that is compiled elsewhere. The block must equal those lines, both with
    their common indentation removed (lines that are themselves snippet markers are left out);
    ``check`` shows the difference otherwise. Not compiled again here.

A compiled block may be preceded by ``<!-- prelude: CODE -->`` (CODE may span lines, up to the
``-->``): code the page does not show but the block needs (the declaration of something the
prose only mentions, an example's header). It is compiled at global scope right before its block,
so the blocks below see it too. Marker comments must be directly above the fence, one after the
other with no blank line; an HTML comment there that is not one of the three is an error, and so
is a marker that is not followed by a C++ block.

Commands (paths relative to --root unless absolute):

    doc_blocks.py generate --root DIR --page docs/x.md --out X.cpp [--tls-out X.tls.cpp]
        Writes the page's translation unit(s); exits 1, with compiler-style messages, when a
        marker is malformed. Without --tls-out the page's TLS blocks are left out.
    doc_blocks.py check --root DIR [--generated DIR] [--tls] [PAGE...]
        Checks every page (default: README.md and docs/*.md): markers well formed, every
        snippet equal to its source and, with --generated, the build's generated files equal to
        what the pages give now (so the build compiled every block that is not a fragment).
        --tls: the build compiled the TLS blocks too. Lists fragments and what was not compiled.
    doc_blocks.py syntax-only COMPILER ARG...
        The compiler launcher of the build's doc check: runs the compile command with
        -fsyntax-only, which gives the same diagnostics (templates are instantiated, coroutines
        transformed) but generates no code, in half the time of -O0; then writes the empty
        object file the build expects.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import pathlib
import re
import subprocess
import sys

KNOWN_MARKERS = ("fragment", "prelude", "snippet")
CPP_LANGUAGES = ("cpp", "c++")

FENCE_RE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^`\s]*)")
COMMENT_START_RE = re.compile(r"^\s*<!--")
MARKER_WORD_RE = re.compile(r"^\s*<!--\s*([A-Za-z][\w-]*)")
FRAGMENT_RE = re.compile(r"^fragment\s+([A-Za-z0-9][\w.-]*)\s*:\s*(\S.*?)\s*$", re.S)
SNIPPET_RE = re.compile(r"^snippet\s*:\s*(\S+)#([\w.-]+)\s*$")
INCLUDE_RE = re.compile(r"^\s*#\s*include\b")
TLS_INCLUDE_RE = re.compile(r"^\s*#\s*include\s*[<\"]wireframe/tls(\.hpp|/)")
SNIPPET_LINE_RE = re.compile(r"^\s*//\s*\[(end )?snippet [\w.-]+\]\s*$")
# `template <> struct fmt::formatter<T>`: an explicit specialisation of a qualified name.
FOREIGN_SPECIALISATION_RE = re.compile(r"\btemplate\s*<\s*>\s*(?:struct|class)\s+(?:::)?\w+\s*::")
STATEMENT_KEYWORD_RE = re.compile(
    r"^(if|for|while|switch|do|return|co_await|co_return|co_yield|break|continue|try|throw|"
    r"delete)\b")
# A name (possibly qualified) followed by a call, member access, subscript or assignment.
EXPRESSION_RE = re.compile(
    r"^(?:::)?[A-Za-z_]\w*(?:\s*::\s*[A-Za-z_]\w*)*\s*"
    r"(?:\.|->|\(|\[(?!\[)|=(?!=)|[-+*/%&|^]=|<<|>>|\+\+|--)")
NOT_EXPRESSIONS = ("static_assert", "alignas", "decltype", "requires", "concept", "template",
                   "using", "typedef", "namespace", "operator", "explicit", "extern")
COROUTINE_KEYWORD_RE = re.compile(r"\b(co_await|co_yield|co_return)\b")
MAIN_RE = re.compile(r"\bint\s+main\s*\(")


class DocError(Exception):
    """A problem in a page, reported as FILE:LINE: error: MESSAGE."""

    def __init__(self, page: str, line: int, message: str):
        super().__init__(f"{page}:{line}: error: {message}")


@dataclasses.dataclass
class Marker:
    """An HTML comment directly above a fence: its first word, text and lines."""

    word: str
    text: str          # between "<!--" and "-->", stripped
    first_line: int    # 1-based
    last_line: int
    code_line: int = 0  # prelude: the page line of the first line of its code
    code: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Block:
    """One C++ block of a page."""

    page: str              # as given, e.g. docs/getting-started.md
    index: int             # 1-based among the page's C++ blocks
    line: int              # page line of the block's first code line
    lines: list[str]
    kind: str = "compiled"  # or "fragment", "snippet"
    name: str = ""          # a fragment's name
    reason: str = ""        # a fragment's reason
    snippet: tuple[str, str] | None = None
    prelude: Marker | None = None

    @property
    def fence_line(self) -> int:
        return self.line - 1

    @property
    def where(self) -> str:
        return f"{self.page}:{self.fence_line}"

    def include_lines(self) -> list[str]:
        code = (self.prelude.code if self.prelude else []) + self.lines
        return [line.strip() for line in code if INCLUDE_RE.match(line)]

    @property
    def needs_tls(self) -> bool:
        return any(TLS_INCLUDE_RE.match(line) for line in self.include_lines())


# --- reading a page ------------------------------------------------------------------------------

def read_comment(lines: list[str], start: int) -> tuple[str, int]:
    """The text of the HTML comment opening at lines[start], and the index of its last line."""
    end = start
    while "-->" not in lines[end]:
        end += 1
        if end == len(lines):
            raise IndexError
    text = "\n".join(lines[start:end + 1])
    text = text[text.index("<!--") + 4:text.index("-->")]
    return text.strip(), end


def make_marker(page: str, lines: list[str], start: int) -> Marker:
    """Reads the comment at lines[start] as a marker (its word may be unknown)."""
    try:
        text, end = read_comment(lines, start)
    except IndexError:
        raise DocError(page, start + 1, "HTML comment is not closed with -->") from None
    word_match = MARKER_WORD_RE.match(lines[start])
    marker = Marker(word_match.group(1) if word_match else "", text, start + 1, end + 1)
    if marker.word == "prelude":
        marker.code, marker.code_line = prelude_code(lines, start, end)
    return marker


def prelude_code(lines: list[str], start: int, end: int) -> tuple[list[str], int]:
    """The code lines of a prelude comment, and the page line of the first of them."""
    first = lines[start].split("prelude", 1)[1].lstrip()
    first = first[1:] if first.startswith(":") else first
    code = [first] + lines[start + 1:end + 1]
    code[-1] = code[-1][:code[-1].index("-->")] if len(code) > 1 else first[:first.index("-->")]
    return code, start + 1


def apply_markers(block: Block, markers: list[Marker]) -> None:
    """Gives the block the meaning of the markers directly above it."""
    for marker in markers:
        if marker.word not in KNOWN_MARKERS:
            raise DocError(block.page, marker.first_line,
                           f"unknown marker '<!-- {marker.word or marker.text[:20]}' above a C++ "
                           f"block (known: {', '.join(KNOWN_MARKERS)})")
        if marker.word == "prelude":
            block.prelude = marker
            continue
        if block.kind != "compiled":
            raise DocError(block.page, marker.first_line,
                           f"a second fragment or snippet marker for one block")
        if marker.word == "fragment":
            match = FRAGMENT_RE.match(marker.text)
            if not match:
                raise DocError(block.page, marker.first_line,
                               "a fragment marker is <!-- fragment NAME: why it does not "
                               "compile on its own -->")
            block.kind, block.name, block.reason = "fragment", match.group(1), match.group(2)
        else:
            match = SNIPPET_RE.match(marker.text)
            if not match:
                raise DocError(block.page, marker.first_line,
                               "a snippet marker is <!-- snippet: PATH#NAME -->")
            block.kind, block.snippet = "snippet", (match.group(1), match.group(2))
    if block.prelude and block.kind != "compiled":
        raise DocError(block.page, block.prelude.first_line,
                       f"a prelude is for a compiled block, not a {block.kind}")


def find_fence_end(lines: list[str], start: int, fence: str) -> int:
    """The index of the line closing the fence opened at lines[start]."""
    close = re.compile(r"^\s*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
    for index in range(start + 1, len(lines)):
        if close.match(lines[index]):
            return index
    return len(lines)


def parse_page(page: str, text: str) -> list[Block]:
    """The C++ blocks of a page, with their markers applied. Raises DocError."""
    lines = text.split("\n")
    blocks: list[Block] = []
    pending: list[Marker] = []  # the marker comments just read, one under the other
    index = 0
    while index < len(lines):
        if COMMENT_START_RE.match(lines[index]):
            marker = make_marker(page, lines, index)
            if pending and pending[-1].last_line != marker.first_line - 1:
                check_dangling(page, pending)
                pending = []
            pending.append(marker)
            index = marker.last_line
            continue
        fence = FENCE_RE.match(lines[index])
        if fence:
            touching = pending if pending and pending[-1].last_line == index else []
            index = read_fenced(page, lines, index, fence, touching, blocks)
        else:
            check_dangling(page, pending)
            index += 1
        pending = []
    check_dangling(page, pending)
    check_fragment_names(blocks)
    return blocks


def read_fenced(page: str, lines: list[str], start: int, fence: re.Match, markers: list[Marker],
                blocks: list[Block]) -> int:
    """Reads the fenced block opening at lines[start], appends it to `blocks` if it is C++;
    returns the index of the line after it."""
    end = find_fence_end(lines, start, fence.group(2))
    if fence.group(3).lower() in CPP_LANGUAGES:
        block = Block(page, len(blocks) + 1, start + 2, lines[start + 1:end])
        apply_markers(block, markers)
        blocks.append(block)
    else:
        check_dangling(page, markers)
    return end + 1


def check_dangling(page: str, markers: list[Marker]) -> None:
    """Known markers must be followed by a C++ block; other comments are prose's business."""
    for marker in markers:
        if marker.word in KNOWN_MARKERS:
            raise DocError(page, marker.first_line,
                           f"'{marker.word}' marker not directly followed by a ```cpp block")


def check_fragment_names(blocks: list[Block]) -> None:
    seen: dict[str, Block] = {}
    for block in blocks:
        if block.kind == "fragment":
            if block.name in seen:  # the marker is on the line above the fence
                raise DocError(block.page, block.fence_line - 1,
                               f"fragment name '{block.name}' used twice on the page (first at "
                               f"line {seen[block.name].fence_line - 1})")
            seen[block.name] = block


# --- classifying a block -------------------------------------------------------------------------

def blank_literals(code: str) -> str:
    """The code with comments, string and character literals and preprocessor lines blanked
    (spaces, newlines kept), so that braces and keywords can be found by plain scanning."""
    out = []
    i = 0
    at_line_start = True
    while i < len(code):
        c = code[i]
        end = skipped_end(code, i, at_line_start)
        if end is None:
            out.append(c)
            i += 1
        else:
            out.append("".join("\n" if ch == "\n" else " " for ch in code[i:end]))
            i = end
        at_line_start = c == "\n" or (at_line_start and c.isspace())
    return "".join(out)


def skipped_end(code: str, i: int, at_line_start: bool) -> int | None:
    """If a comment, literal or preprocessor line starts at code[i], the index after it."""
    c = code[i]
    if at_line_start and c == "#" or code.startswith("//", i):
        end = code.find("\n", i)
        return len(code) if end < 0 else end
    if code.startswith("/*", i):
        end = code.find("*/", i + 2)
        return len(code) if end < 0 else end + 2
    if c == '"' and raw_string_prefix(code, i):
        return raw_string_end(code, i)
    if c == '"' or (c == "'" and not (i and (code[i - 1].isalnum() or code[i - 1] == "_"))):
        return quoted_end(code, i)
    return None


def raw_string_prefix(code: str, i: int) -> bool:
    return i > 0 and code[i - 1] == "R"


def raw_string_end(code: str, i: int) -> int:
    open_paren = code.find("(", i)
    delimiter = code[i + 1:open_paren]
    end = code.find(")" + delimiter + '"', open_paren)
    return len(code) if end < 0 else end + len(delimiter) + 2


def quoted_end(code: str, i: int) -> int:
    quote, j = code[i], i + 1
    while j < len(code) and code[j] not in (quote, "\n"):
        j += 2 if code[j] == "\\" else 1
    return min(j + 1, len(code))


def top_level(code: str) -> tuple[list[str], str]:
    """The items (declarations, statements) at brace depth 0 of blanked code, each from its
    start to its end, and the code at brace depth 0 alone."""
    items, current, outside = [], [], []
    depth = parens = 0
    for c in code:
        if depth == 0 and c != "}":
            outside.append(c)
        current.append(c)
        if c in "([":
            parens += 1
        elif c in ")]":
            parens -= 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if depth == 0 and parens == 0 and c in ";}":
            items.append("".join(current).strip())
            current = []
    rest = "".join(current).strip()
    if rest:
        items.append(rest)
    return [item for item in items if item and item != ";"], "".join(outside)


def is_statement(item: str) -> bool:
    """Whether a top-level item is a statement (which needs a function around it)."""
    if STATEMENT_KEYWORD_RE.match(item) or item.startswith(("(", "*", "!", "~", "++", "--")):
        return True
    if item.startswith("[") and not item.startswith("[["):
        return True  # a lambda expression
    if EXPRESSION_RE.match(item):
        return item.split("(")[0].split("<")[0].split()[0] not in NOT_EXPRESSIONS
    return False


def scope_of(block: Block) -> str:
    """Where the block's code goes: "global", "namespace", "function" or "coroutine"."""
    code = blank_literals("\n".join(block.lines))
    if FOREIGN_SPECIALISATION_RE.search(code):
        return "global"
    items, outside = top_level(code)
    if COROUTINE_KEYWORD_RE.search(outside):
        return "coroutine"
    if any(is_statement(item) for item in items):
        return "function"
    return "namespace"


# --- writing a translation unit ------------------------------------------------------------------

class Writer:
    """Lines of a generated file, with #line directives back to it after each quoted part."""

    def __init__(self, path: str):
        self.path = path
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def quote(self, source: str, first_line: int, lines: list[str]) -> None:
        """Adds page lines, reported by the compiler as source:first_line onwards."""
        self.add(f'#line {first_line} "{source}"')
        self.add(*lines)
        self.add(f'#line {len(self.lines) + 2} "{self.path}"')

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def namespace_name(page: str, index: int) -> str:
    stem = re.sub(r"\W", "_", pathlib.PurePath(page).stem.lower())
    return f"doc_{stem}_{index}"


def without_includes(lines: list[str]) -> list[str]:
    return ["" if INCLUDE_RE.match(line) else line for line in lines]


def hoisted_includes(blocks: list[Block]) -> list[str]:
    seen: dict[str, None] = {}
    for block in blocks:
        for line in block.include_lines():
            seen.setdefault(line)
    return list(seen)


def write_block(out: Writer, source: str, block: Block, chain: list[str]) -> None:
    """Adds one compiled block (and its prelude) to the unit; `chain` is the nesting so far."""
    if block.prelude:
        out.add(f"// {block.page}: the prelude of block {block.index}")
        out.quote(source, block.prelude.code_line, without_includes(block.prelude.code))
    scope = scope_of(block)
    out.add(f"// {block.page}, block {block.index} (line {block.fence_line}): {scope} scope")
    if scope == "global":
        # What the blocks above declared, for the block's own names (a name declared by two
        # of them is ambiguous here; the blocks below are not affected).
        out.add(*(f"using namespace {'::'.join(chain[:n])};" for n in range(1, len(chain) + 1)))
        out.quote(source, block.line, without_includes(block.lines))
    else:
        chain.append(namespace_name(block.page, block.index))
        write_namespaced(out, source, block, scope, chain)


def write_namespaced(out: Writer, source: str, block: Block, scope: str,
                     chain: list[str]) -> None:
    """Adds a block in the namespace chain[-1], nested in the others of `chain`."""
    # main() may end without a return; in a namespace it is an ordinary function, which may not.
    defines_main = bool(MAIN_RE.search(blank_literals("\n".join(block.lines))))
    if defines_main:
        out.add("#pragma GCC diagnostic push", '#pragma GCC diagnostic ignored "-Wreturn-type"')
    out.add(f"namespace {'::'.join(chain)} {{")
    if scope == "namespace":
        out.quote(source, block.line, without_includes(block.lines))
    else:
        result = "asio::awaitable<void>" if scope == "coroutine" else "void"
        out.add(f"[[maybe_unused]] {result} doc_block() {{")
        out.quote(source, block.line, without_includes(block.lines))
        out.add("}")
    out.add(f"}}  // namespace {chain[-1]}")
    if defines_main:
        out.add("#pragma GCC diagnostic pop")


def translation_unit(page: str, source: str, blocks: list[Block], path: str) -> str:
    """The C++ file compiling `blocks` of `page`; `source` is the page's path for #line."""
    out = Writer(path)
    out.add(f"// Generated by tools/doc_blocks.py from {page}: do not edit.",
            "// Each C++ block of the page is in a namespace nested in those of the blocks above",
            "// it; #line directives point at the page.")
    out.add(*hoisted_includes(blocks))
    chain: list[str] = []
    for block in blocks:
        out.add("")
        write_block(out, source, block, chain)
    return out.text()


def compiled_blocks(blocks: list[Block], tls: bool) -> list[Block]:
    return [b for b in blocks if b.kind == "compiled" and b.needs_tls == tls]


# --- snippets ------------------------------------------------------------------------------------

def dedent(lines: list[str]) -> list[str]:
    """Lines without trailing blanks and without their common indentation; no blank ends."""
    lines = [line.rstrip() for line in lines]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    indent = min((len(l) - len(l.lstrip()) for l in lines if l), default=0)
    return [line[indent:] for line in lines]


def snippet_lines(root: pathlib.Path, path: str, name: str) -> list[str]:
    """The lines between // [snippet NAME] and // [end snippet NAME] of root/path."""
    source = root / path
    if not source.is_file():
        raise LookupError(f"snippet source {path} does not exist")
    lines = source.read_text(encoding="utf-8").split("\n")
    begin = [i for i, l in enumerate(lines) if l.strip() == f"// [snippet {name}]"]
    end = [i for i, l in enumerate(lines) if l.strip() == f"// [end snippet {name}]"]
    if len(begin) != 1 or len(end) != 1 or end[0] < begin[0]:
        raise LookupError(f"{path} must have one '// [snippet {name}]' and, after it, one "
                          f"'// [end snippet {name}]' line")
    return [l for l in lines[begin[0] + 1:end[0]] if not SNIPPET_LINE_RE.match(l)]


def check_snippet(root: pathlib.Path, block: Block) -> list[str]:
    """Error messages for a snippet block that does not equal its source (none if it does)."""
    path, name = block.snippet
    try:
        expected = dedent(snippet_lines(root, path, name))
    except LookupError as error:
        return [f"{block.where}: error: snippet {path}#{name}: {error}"]
    actual = dedent(block.lines)
    if actual == expected:
        return []
    diff = difflib.unified_diff(expected, actual, f"{path}#{name}", block.where, lineterm="")
    return [f"{block.where}: error: the block differs from snippet {path}#{name} "
            f"(- the source, + the page):\n" + "\n".join(diff)]


# --- commands ------------------------------------------------------------------------------------

def load_page(root: pathlib.Path, page: str) -> tuple[list[Block], str]:
    path = (root / page).resolve()
    return parse_page(page, path.read_text(encoding="utf-8")), str(path)


def write_if_changed(path: pathlib.Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def generate(args: argparse.Namespace) -> int:
    root = pathlib.Path(args.root)
    try:
        blocks, source = load_page(root, args.page)
    except DocError as error:
        print(error, file=sys.stderr)
        return 1
    outputs = [(args.out, False)] + ([(args.tls_out, True)] if args.tls_out else [])
    for out, tls in outputs:
        path = pathlib.Path(out).resolve()
        write_if_changed(path, translation_unit(args.page, source,
                                                compiled_blocks(blocks, tls), str(path)))
    return 0


def default_pages(root: pathlib.Path) -> list[str]:
    pages = ["README.md"] if (root / "README.md").is_file() else []
    return pages + sorted(p.relative_to(root).as_posix() for p in (root / "docs").glob("*.md"))


def generated_path(directory: pathlib.Path, page: str, tls: bool) -> pathlib.Path:
    """Where the build writes a page's unit (cmake/WireframeDocCheck.cmake uses the same)."""
    return (directory / (pathlib.PurePath(page).name + (".tls.cpp" if tls else ".cpp"))).resolve()


def check_generated(directory: pathlib.Path, page: str, source: str, blocks: list[Block],
                    tls: bool) -> list[str]:
    """Errors if the build's unit for the page is not what the page gives now."""
    path = generated_path(directory, page, tls)
    expected = translation_unit(page, source, compiled_blocks(blocks, tls), str(path))
    if path.is_file() and path.read_text(encoding="utf-8") == expected:
        return []
    state = "differs from what the page gives now" if path.is_file() else "is missing"
    return [f"{page}: error: {path} {state}: the build did not compile the page's current "
            f"blocks (build the doc check target again)"]


def check_page(args: argparse.Namespace, root: pathlib.Path, page: str,
               totals: dict[str, int]) -> list[str]:
    """Checks one page, prints its summary, and returns its errors."""
    try:
        blocks, source = load_page(root, page)
    except DocError as error:
        return [str(error)]
    errors: list[str] = []
    tls_blocks = compiled_blocks(blocks, True)
    plain = compiled_blocks(blocks, False)
    fragments = [b for b in blocks if b.kind == "fragment"]
    snippets = [b for b in blocks if b.kind == "snippet"]
    for block in snippets:
        errors += check_snippet(root, block)
    if args.generated:
        directory = pathlib.Path(args.generated)
        errors += check_generated(directory, page, source, blocks, False)
        if args.tls:
            errors += check_generated(directory, page, source, blocks, True)
    totals["blocks"] += len(blocks)
    totals["compiled"] += len(plain) + (len(tls_blocks) if args.tls else 0)
    totals["tls"] += len(tls_blocks)
    totals["fragments"] += len(fragments)
    totals["snippets"] += len(snippets)
    if blocks:
        print(page_summary(page, plain, tls_blocks, fragments, snippets, tls_state(args)))
    return errors


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def tls_state(args: argparse.Namespace) -> str:
    """What happened to the blocks that need wireframe::tls, in the words of the summary."""
    if args.tls:
        return "compiled with wireframe::tls"
    if args.generated:
        return "not compiled (they need wireframe::tls, not in this build)"
    return "to compile with wireframe::tls"


def page_summary(page: str, plain: list[Block], tls_blocks: list[Block], fragments: list[Block],
                 snippets: list[Block], tls: str) -> str:
    parts = [f"{len(plain)} compiled"]
    if tls_blocks:
        parts.append(f"{len(tls_blocks)} {tls}")
    if snippets:
        parts.append(plural(len(snippets), "snippet"))
    if fragments:
        parts.append(plural(len(fragments), "fragment"))
    total = len(plain) + len(tls_blocks) + len(fragments) + len(snippets)
    lines = [f"{page}: {plural(total, 'C++ block')}: {', '.join(parts)}"]
    lines += [f"  snippet {b.snippet[0]}#{b.snippet[1]} (line {b.fence_line}): matches"
              for b in snippets]
    lines += [f"  fragment {b.name} (line {b.fence_line}): {b.reason}" for b in fragments]
    return "\n".join(lines)


def check(args: argparse.Namespace) -> int:
    root = pathlib.Path(args.root)
    pages = args.pages or default_pages(root)
    totals = dict.fromkeys(("blocks", "compiled", "tls", "fragments", "snippets"), 0)
    errors: list[str] = []
    for page in pages:
        errors += check_page(args, root, page, totals)
    print(f"{plural(totals['blocks'], 'C++ block')} in {plural(len(pages), 'page')}: "
          f"{totals['compiled']} compiled, {plural(totals['fragments'], 'fragment')}, "
          f"{plural(totals['snippets'], 'snippet')}"
          + (f"; {totals['tls']} {tls_state(args)}" if totals["tls"] and not args.tls else ""))
    for error in errors:
        print(error, file=sys.stderr)
    return 1 if errors else 0


def syntax_only(command: list[str]) -> int:
    """Runs a compile command without code generation; touches its -o file if it succeeds."""
    status = subprocess.run(command + ["-fsyntax-only"], check=False).returncode
    if status == 0 and "-o" in command[:-1]:
        pathlib.Path(command[command.index("-o") + 1]).write_bytes(b"")
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write a page's translation unit(s)")
    gen.add_argument("--root", required=True)
    gen.add_argument("--page", required=True)
    gen.add_argument("--out", required=True)
    gen.add_argument("--tls-out")
    chk = commands.add_parser("check", help="check markers, snippets and generated files")
    chk.add_argument("--root", required=True)
    chk.add_argument("--generated")
    chk.add_argument("--tls", action="store_true")
    chk.add_argument("pages", nargs="*")
    syn = commands.add_parser("syntax-only", help="compile without generating code")
    syn.add_argument("compile", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "syntax-only":
        return syntax_only(args.compile)
    return generate(args) if args.command == "generate" else check(args)


if __name__ == "__main__":
    sys.exit(main())
