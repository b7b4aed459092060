// Recursive-descent parser for the Jinja subset chat templates use. Operator precedence follows
// Jinja: ternary < or < and < not < comparisons/in < ~ < + - < * / // % < ** < unary, with
// filters (|) and tests (is) binding to the operand on their left.
#include <charconv>
#include <initializer_list>

#include "chat/ast.h"
#include "chat/lexer.h"

namespace nibble::chat {
namespace {

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  std::vector<NodePtr> parse_all() {
    std::string term;
    auto body = parse_block({}, &term);
    return body;
  }

 private:
  std::vector<Token> t_;
  size_t p_ = 0;
  int depth_ = 0;
  uint32_t stmt_open_ = 0;  // offset of the '{%' of the statement being parsed

  struct DepthGuard {
    Parser* p;
    explicit DepthGuard(Parser* pp) : p(pp) {
      if (++p->depth_ > kMaxParseDepth) p->error("template nested too deeply");
    }
    ~DepthGuard() { --p->depth_; }
  };

  const Token& peek(size_t k = 0) const {
    size_t i = p_ + k;
    return i < t_.size() ? t_[i] : t_.back();
  }
  const Token& next() {
    const Token& tok = peek();
    if (p_ < t_.size() - 1) ++p_;
    return tok;
  }
  [[noreturn]] void error(const std::string& msg) const {
    throw TemplateFailure{msg, peek().offset};
  }
  [[noreturn]] void error_at(uint32_t offset, const std::string& msg) const {
    throw TemplateFailure{msg, offset};
  }
  static std::string describe(const Token& tok) {
    switch (tok.type) {
      case Tok::end:
        return "end of template";
      case Tok::text:
        return "text";
      case Tok::close_stmt:
        return "'%}'";
      case Tok::close_expr:
        return "'}}'";
      case Tok::open_stmt:
        return "'{%'";
      case Tok::open_expr:
        return "'{{'";
      case Tok::string:
        return "string literal";
      default:
        return "'" + tok.text + "'";
    }
  }
  bool is_op(const char* op, size_t k = 0) const {
    return peek(k).type == Tok::op && peek(k).text == op;
  }
  bool is_name(const char* name, size_t k = 0) const {
    return peek(k).type == Tok::name && peek(k).text == name;
  }
  void expect_op(const char* op) {
    if (!is_op(op)) error(std::string("expected '") + op + "' but found " + describe(peek()));
    next();
  }
  void expect_name(const char* name) {
    if (!is_name(name)) error(std::string("expected '") + name + "' but found " + describe(peek()));
    next();
  }
  std::string expect_identifier(const char* what) {
    if (peek().type != Tok::name)
      error(std::string("expected ") + what + " but found " + describe(peek()));
    return next().text;
  }
  void expect_close_stmt() {
    if (peek().type != Tok::close_stmt) error("expected '%}' but found " + describe(peek()));
    next();
  }
  NodePtr make(NodeKind k, uint32_t offset) {
    auto n = std::make_unique<Node>();
    n->kind = k;
    n->offset = offset;
    return n;
  }

  // Statements until one of `terms` (the tag name is consumed; the caller finishes the tag).
  std::vector<NodePtr> parse_block(std::initializer_list<const char*> terms, std::string* term) {
    DepthGuard g(this);
    std::vector<NodePtr> out;
    const uint32_t block_start = stmt_open_;
    for (;;) {
      const Token& tok = peek();
      switch (tok.type) {
        case Tok::end:
          if (terms.size() == 0) return out;
          error_at(block_start, std::string("unterminated block: expected '{% ") +
                                    *(terms.end() - 1) + " %}' before the end of the template");
        case Tok::text: {
          auto n = make(NodeKind::text, tok.offset);
          n->str = tok.text;
          next();
          out.push_back(std::move(n));
          break;
        }
        case Tok::open_expr: {
          next();
          auto n = make(NodeKind::output, tok.offset);
          n->kids.push_back(parse_expr());
          if (peek().type != Tok::close_expr) error("expected '}}' but found " + describe(peek()));
          next();
          out.push_back(std::move(n));
          break;
        }
        case Tok::open_stmt: {
          next();
          const Token& kw = peek();
          if (kw.type != Tok::name) error("expected a statement name after '{%'");
          for (const char* t : terms) {
            if (kw.text == t) {
              *term = kw.text;
              next();
              return out;
            }
          }
          stmt_open_ = tok.offset;
          auto n = parse_statement();
          if (n) out.push_back(std::move(n));
          break;
        }
        default:
          error("unexpected " + describe(tok));
      }
    }
  }

  // The target of {% set %}: a name, name.attribute or a tuple of names "a, b".
  NodePtr parse_set_target() {
    const uint32_t target_off = peek().offset;
    std::string name = expect_identifier("a variable name");
    NodePtr target = make(NodeKind::name, target_off);
    target->str = name;
    if (is_op(".")) {
      next();
      auto a = make(NodeKind::attr, target_off);
      a->str = expect_identifier("an attribute name");
      a->kids.push_back(std::move(target));
      target = std::move(a);
    } else if (is_op(",")) {
      auto tuple = make(NodeKind::list_lit, target_off);
      tuple->kids.push_back(std::move(target));
      while (is_op(",")) {
        next();
        auto t = make(NodeKind::name, peek().offset);
        t->str = expect_identifier("a variable name");
        tuple->kids.push_back(std::move(t));
      }
      target = std::move(tuple);
    }
    return target;
  }

  NodePtr parse_statement() {
    const uint32_t opener = stmt_open_;
    // Nested statements move stmt_open_; an unterminated block of this one names our '{%'.
    const Token kw = next();
    auto block = [&](std::initializer_list<const char*> terms, std::string* term) {
      stmt_open_ = opener;
      auto body = parse_block(terms, term);
      stmt_open_ = opener;
      return body;
    };
    const std::string& k = kw.text;
    if (k == "if") {
      auto n = make(NodeKind::if_stmt, kw.offset);
      n->kids.push_back(parse_expr());
      expect_close_stmt();
      for (;;) {
        std::string term;
        n->bodies.push_back(block({"elif", "else", "endif"}, &term));
        if (term == "elif") {
          n->kids.push_back(parse_expr());
          expect_close_stmt();
          continue;
        }
        if (term == "else") {
          expect_close_stmt();
          n->else_body = block({"endif"}, &term);
        }
        expect_close_stmt();
        return n;
      }
    }
    if (k == "for") {
      auto n = make(NodeKind::for_stmt, kw.offset);
      n->names.push_back(expect_identifier("a loop variable"));
      while (is_op(",")) {
        next();
        n->names.push_back(expect_identifier("a loop variable"));
      }
      expect_name("in");
      n->kids.push_back(parse_or());
      if (is_name("if")) {
        next();
        n->kids.push_back(parse_or());
      } else {
        n->kids.push_back(nullptr);
      }
      if (is_name("recursive")) error("recursive loops are not supported");
      expect_close_stmt();
      std::string term;
      n->body = block({"else", "endfor"}, &term);
      if (term == "else") {
        expect_close_stmt();
        n->else_body = block({"endfor"}, &term);
      }
      expect_close_stmt();
      return n;
    }
    if (k == "set") {
      auto n = make(NodeKind::set_stmt, kw.offset);
      n->kids.push_back(parse_set_target());
      if (is_op("=")) {
        next();
        n->kids.push_back(parse_expr_tuple());
        expect_close_stmt();
      } else {
        if (n->kids[0]->kind != NodeKind::name) error("block set needs a plain variable name");
        expect_close_stmt();
        n->kids.push_back(nullptr);
        std::string term;
        n->body = block({"endset"}, &term);
        expect_close_stmt();
      }
      return n;
    }
    if (k == "macro") {
      auto n = make(NodeKind::macro, kw.offset);
      n->str = expect_identifier("a macro name");
      expect_op("(");
      while (!is_op(")")) {
        n->names.push_back(expect_identifier("a parameter name"));
        if (is_op("=")) {
          next();
          n->kids.push_back(parse_expr());
        } else {
          n->kids.push_back(nullptr);
        }
        if (!is_op(",")) break;
        next();
      }
      expect_op(")");
      expect_close_stmt();
      std::string term;
      n->body = block({"endmacro"}, &term);
      expect_close_stmt();
      return n;
    }
    if (k == "break" || k == "continue") {
      auto n = make(k == "break" ? NodeKind::break_stmt : NodeKind::continue_stmt, kw.offset);
      expect_close_stmt();
      return n;
    }
    if (k == "generation" || k == "endgeneration") {
      // HF's assistant-mask markers: no effect on the rendered text.
      expect_close_stmt();
      return nullptr;
    }
    error_at(kw.offset, "unknown statement '" + k + "'");
  }

  // An expression, or a parenthesis-less tuple "a, b" (set values).
  NodePtr parse_expr_tuple() {
    auto first = parse_expr();
    if (!is_op(",")) return first;
    auto tuple = make(NodeKind::list_lit, first->offset);
    tuple->kids.push_back(std::move(first));
    while (is_op(",")) {
      next();
      tuple->kids.push_back(parse_expr());
    }
    return tuple;
  }

  NodePtr parse_expr() {
    DepthGuard g(this);
    auto value = parse_or();
    while (is_name("if")) {
      auto n = make(NodeKind::ternary, next().offset);
      auto cond = parse_or();
      NodePtr other;
      if (is_name("else")) {
        next();
        other = parse_expr();
      }
      n->kids.push_back(std::move(value));
      n->kids.push_back(std::move(cond));
      n->kids.push_back(std::move(other));
      value = std::move(n);
    }
    return value;
  }

  NodePtr binary(const std::string& op, NodePtr a, NodePtr b, uint32_t off) {
    auto n = make(NodeKind::binary, off);
    n->str = op;
    n->kids.push_back(std::move(a));
    n->kids.push_back(std::move(b));
    return n;
  }

  NodePtr parse_or() {
    auto a = parse_and();
    while (is_name("or")) {
      uint32_t off = next().offset;
      a = binary("or", std::move(a), parse_and(), off);
    }
    return a;
  }
  NodePtr parse_and() {
    auto a = parse_not();
    while (is_name("and")) {
      uint32_t off = next().offset;
      a = binary("and", std::move(a), parse_not(), off);
    }
    return a;
  }
  NodePtr parse_not() {
    if (is_name("not")) {
      DepthGuard g(this);
      auto n = make(NodeKind::unary, next().offset);
      n->str = "not";
      n->kids.push_back(parse_not());
      return n;
    }
    return parse_compare();
  }
  NodePtr parse_compare() {
    auto a = parse_concat();
    for (;;) {
      const Token& tok = peek();
      if (tok.type == Tok::op && (tok.text == "==" || tok.text == "!=" || tok.text == "<" ||
                                  tok.text == ">" || tok.text == "<=" || tok.text == ">=")) {
        std::string op = next().text;
        a = binary(op, std::move(a), parse_concat(), tok.offset);
      } else if (is_name("in")) {
        uint32_t off = next().offset;
        a = binary("in", std::move(a), parse_concat(), off);
      } else if (is_name("not") && is_name("in", 1)) {
        uint32_t off = next().offset;
        next();
        a = binary("not in", std::move(a), parse_concat(), off);
      } else {
        return a;
      }
    }
  }
  NodePtr parse_concat() {
    auto a = parse_math1();
    while (is_op("~")) {
      uint32_t off = next().offset;
      a = binary("~", std::move(a), parse_math1(), off);
    }
    return a;
  }
  NodePtr parse_math1() {
    auto a = parse_math2();
    while (is_op("+") || is_op("-")) {
      const Token& tok = next();
      std::string op = tok.text;
      a = binary(op, std::move(a), parse_math2(), tok.offset);
    }
    return a;
  }
  NodePtr parse_math2() {
    auto a = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& tok = next();
      std::string op = tok.text;
      a = binary(op, std::move(a), parse_pow(), tok.offset);
    }
    return a;
  }
  NodePtr parse_pow() {
    auto a = parse_unary(true);
    while (is_op("**")) {
      uint32_t off = next().offset;
      a = binary("**", std::move(a), parse_unary(true), off);
    }
    return a;
  }
  NodePtr parse_unary(bool with_filters) {
    DepthGuard g(this);
    NodePtr node;
    if (is_op("-") || is_op("+")) {
      const Token& tok = next();
      node = make(NodeKind::unary, tok.offset);
      node->str = tok.text;
      node->kids.push_back(parse_unary(false));
    } else {
      node = parse_postfix(parse_primary());
    }
    if (with_filters) node = parse_filters(std::move(node));
    return node;
  }

  void parse_args(Node* n) {
    expect_op("(");
    while (!is_op(")")) {
      if (peek().type == Tok::name && is_op("=", 1)) {
        n->names.push_back(next().text);
        next();
      } else {
        n->names.emplace_back();
      }
      n->kids.push_back(parse_expr());
      if (!is_op(",")) break;
      next();
    }
    expect_op(")");
  }

  NodePtr parse_filters(NodePtr node) {
    for (;;) {
      if (is_op("|")) {
        next();
        auto f = make(NodeKind::filter, peek().offset);
        f->str = expect_identifier("a filter name");
        f->kids.push_back(std::move(node));
        if (is_op("(")) parse_args(f.get());
        node = std::move(f);
      } else if (is_name("is")) {
        next();
        auto t = make(NodeKind::test, peek().offset);
        if (is_name("not")) {
          next();
          t->negate = true;
        }
        // "none", "true", "false" are test names here even though they are literals elsewhere.
        t->str = expect_identifier("a test name");
        t->kids.push_back(std::move(node));
        if (is_op("(")) {
          parse_args(t.get());
        } else if (t->str == "equalto" || t->str == "sameas" || t->str == "eq" || t->str == "ne" ||
                   t->str == "lt" || t->str == "gt" || t->str == "le" || t->str == "ge" ||
                   t->str == "divisibleby" || t->str == "in") {
          t->names.emplace_back();
          t->kids.push_back(parse_postfix(parse_primary()));
        }
        node = std::move(t);
      } else {
        return node;
      }
    }
  }

  NodePtr parse_postfix(NodePtr node) {
    for (;;) {
      if (is_op(".")) {
        auto a = make(NodeKind::attr, next().offset);
        if (peek().type == Tok::integer) {
          // x.0 is x[0] in Jinja.
          auto idx = make(NodeKind::index, a->offset);
          auto lit = make(NodeKind::literal, peek().offset);
          int64_t v = 0;
          const auto& text = peek().text;
          auto r = std::from_chars(text.data(), text.data() + text.size(), v);
          if (r.ec != std::errc()) error("integer literal out of range");
          next();
          lit->lit = Value::integer(v);
          idx->kids.push_back(std::move(node));
          idx->kids.push_back(std::move(lit));
          node = std::move(idx);
          continue;
        }
        a->str = expect_identifier("an attribute name");
        a->kids.push_back(std::move(node));
        node = std::move(a);
      } else if (is_op("[")) {
        uint32_t off = next().offset;
        NodePtr start, stop, step;
        if (!is_op(":")) start = parse_expr();
        if (is_op(":")) {
          next();
          if (!is_op(":") && !is_op("]")) stop = parse_expr();
          if (is_op(":")) {
            next();
            if (!is_op("]")) step = parse_expr();
          }
          auto s = make(NodeKind::slice, off);
          s->kids.push_back(std::move(node));
          s->kids.push_back(std::move(start));
          s->kids.push_back(std::move(stop));
          s->kids.push_back(std::move(step));
          node = std::move(s);
        } else {
          if (!start) error("empty subscript");
          auto s = make(NodeKind::index, off);
          s->kids.push_back(std::move(node));
          s->kids.push_back(std::move(start));
          node = std::move(s);
        }
        expect_op("]");
      } else if (is_op("(")) {
        auto c = make(NodeKind::call, peek().offset);
        c->kids.push_back(std::move(node));
        parse_args(c.get());
        node = std::move(c);
      } else {
        return node;
      }
    }
  }

  NodePtr parse_primary() {
    DepthGuard g(this);
    const Token& tok = peek();
    switch (tok.type) {
      case Tok::string: {
        auto n = make(NodeKind::literal, tok.offset);
        std::string s = next().text;
        while (peek().type == Tok::string) s += next().text;  // "a" "b" concatenates
        n->lit = Value::string(std::move(s));
        return n;
      }
      case Tok::integer: {
        auto n = make(NodeKind::literal, tok.offset);
        int64_t v = 0;
        auto r = std::from_chars(tok.text.data(), tok.text.data() + tok.text.size(), v);
        if (r.ec != std::errc()) error("integer literal out of range");
        next();
        n->lit = Value::integer(v);
        return n;
      }
      case Tok::floating: {
        auto n = make(NodeKind::literal, tok.offset);
        double v = 0;
        std::from_chars(tok.text.data(), tok.text.data() + tok.text.size(), v);
        next();
        n->lit = Value::floating(v);
        return n;
      }
      case Tok::name: {
        auto n = make(NodeKind::literal, tok.offset);
        const std::string& w = tok.text;
        if (w == "true" || w == "True") {
          n->lit = Value::boolean(true);
        } else if (w == "false" || w == "False") {
          n->lit = Value::boolean(false);
        } else if (w == "none" || w == "None") {
          n->lit = Value::none();
        } else {
          n->kind = NodeKind::name;
          n->str = w;
        }
        next();
        return n;
      }
      case Tok::op: {
        if (tok.text == "(") {
          uint32_t off = next().offset;
          if (is_op(")")) {
            next();
            return make(NodeKind::list_lit, off);
          }
          auto e = parse_expr();
          if (is_op(",")) {
            auto tuple = make(NodeKind::list_lit, off);
            tuple->kids.push_back(std::move(e));
            while (is_op(",")) {
              next();
              if (is_op(")")) break;
              tuple->kids.push_back(parse_expr());
            }
            e = std::move(tuple);
          }
          expect_op(")");
          return e;
        }
        if (tok.text == "[") {
          auto n = make(NodeKind::list_lit, next().offset);
          while (!is_op("]")) {
            n->kids.push_back(parse_expr());
            if (!is_op(",")) break;
            next();
          }
          expect_op("]");
          return n;
        }
        if (tok.text == "{") {
          auto n = make(NodeKind::dict_lit, next().offset);
          while (!is_op("}")) {
            n->kids.push_back(parse_expr());
            expect_op(":");
            n->kids.push_back(parse_expr());
            if (!is_op(",")) break;
            next();
          }
          expect_op("}");
          return n;
        }
        break;
      }
      default:
        break;
    }
    error("expected an expression but found " + describe(tok));
  }
};

}  // namespace

std::vector<NodePtr> parse(std::string_view source) {
  Parser p(tokenize(source));
  return p.parse_all();
}

}  // namespace nibble::chat
