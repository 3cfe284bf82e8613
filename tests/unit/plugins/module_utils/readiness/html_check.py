"""A strict HTML5 well-formedness check on the standard library's html.parser.

html5lib is not installed here, so this checks what a report needs: the doctype first, one html
element with a lang, head with a charset meta and a title, every non-void element closed in order,
only known HTML5 and SVG element names, no script, no external reference (src, href to another
document, @import, url()). It is stricter than a browser (which repairs); it is not a full
HTML5 conformance checker.
"""

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HTML = VOID | {"html", "head", "body", "title", "style", "header", "main", "section", "div", "p", "span", "strong", "em",
               "h1", "h2", "h3", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "code", "a", "footer", "nav"}
SVG = {"svg", "rect", "text", "title", "g", "line", "path", "circle"}


class StrictHtml(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.stack, self.errors, self.seen, self.doctype, self.first = [], [], [], None, None

    def handle_decl(self, decl):
        if self.first is None:
            self.first = "doctype"
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        if self.first is None:
            self.first = tag
        self.seen.append((tag, dict(attrs)))
        if tag not in HTML | SVG:
            self.errors.append("unknown element <%s>" % tag)
        if tag == "script":
            self.errors.append("script element")
        for name, value in attrs:
            if name == "src" or (name == "href" and not str(value).startswith("#")):
                self.errors.append("external reference %s=%s" % (name, value))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            self.errors.append("end tag for void element </%s>" % tag)
        elif not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> does not close <%s>" % (tag, self.stack[-1] if self.stack else "nothing"))
        else:
            self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "style" and ("@import" in data or "url(" in data):
            self.errors.append("external style reference")


def check_html(document):
    """The list of problems (empty when the document passes)."""
    parser = StrictHtml()
    parser.feed(document)
    parser.close()
    problems = list(parser.errors)
    if parser.first != "doctype" or (parser.doctype or "").lower() != "doctype html":
        problems.append("the document does not start with <!DOCTYPE html>")
    if parser.stack:
        problems.append("unclosed elements: %s" % parser.stack)
    tags = [tag for tag, dummy in parser.seen]
    if tags[:1] != ["html"] or tags.count("html") != 1 or not dict(parser.seen[0][1]).get("lang"):
        problems.append("one <html lang=...> root is needed")
    if tags.count("head") != 1 or tags.count("body") != 1:
        problems.append("one head and one body are needed")
    if not any(tag == "meta" and attrs.get("charset") for tag, attrs in parser.seen):
        problems.append("no <meta charset>")
    if "title" not in tags:
        problems.append("no <title>")
    return problems
