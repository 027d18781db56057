// ledger.cpp - a small ledger checker that reports bad input with C++ exceptions.
//
// It parses transaction lines ("deposit alice 40", "transfer alice bob 15", ...), applies
// them to accounts and prints the balances. Errors are thrown several calls deep and unwind
// through RAII guards that print when they are destroyed:
//   * ParseError / LedgerError (derived from std::runtime_error) caught by the base class
//     (std::exception&), sometimes after a rethrow (`throw;`) from an inner handler;
//   * an int error code thrown by the overdraft check and caught by catch (int);
//   * an unknown command caught by catch (...).
// Built for wasm32-wasi with -fwasm-exceptions by samples/build-cpp-eh.sh; its output must
// match a native build of the same file (tests/cpp_exceptions.rs).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

class LedgerError : public std::runtime_error {
  public:
    LedgerError(const std::string &what, int line) : std::runtime_error(what), line_(line) {}
    int line() const { return line_; }

  private:
    int line_;
};

class ParseError : public LedgerError {
  public:
    ParseError(const std::string &what, int line, int column)
        : LedgerError(what, line), column_(column) {}
    int column() const { return column_; }

  private:
    int column_;
};

struct UnknownCommand {
    std::string name;
};

static const int ERR_OVERDRAFT = 402;

// Prints when a scope is entered and left, so the unwinding order shows in the output.
class Guard {
  public:
    explicit Guard(const char *name) : name_(name) { std::printf("  enter %s\n", name_); }
    ~Guard() { std::printf("  leave %s\n", name_); }

  private:
    const char *name_;
};

struct Account {
    std::string name;
    long balance;
};

static std::vector<Account> accounts;

static Account &find_account(const std::string &name, int line) {
    for (Account &a : accounts) {
        if (a.name == name) return a;
    }
    throw LedgerError("no account '" + name + "'", line);
}

static long parse_amount(const char *text, int line, int column) {
    Guard g("parse_amount");
    char *end = nullptr;
    long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0') {
        throw ParseError(std::string("bad amount '") + text + "'", line, column);
    }
    if (value <= 0) {
        throw ParseError("amount must be positive", line, column);
    }
    return value;
}

static void withdraw(Account &from, long amount) {
    Guard g("withdraw");
    if (from.balance < amount) {
        throw ERR_OVERDRAFT;
    }
    from.balance -= amount;
}

static std::vector<std::string> split(const std::string &line) {
    std::vector<std::string> words;
    std::string word;
    for (char c : line) {
        if (c == ' ') {
            if (!word.empty()) words.push_back(word);
            word.clear();
        } else {
            word += c;
        }
    }
    if (!word.empty()) words.push_back(word);
    return words;
}

static void apply(const std::string &text, int line) {
    Guard g("apply");
    std::vector<std::string> w = split(text);
    if (w.empty()) return;
    if (w[0] == "open" && w.size() == 2) {
        accounts.push_back(Account{w[1], 0});
    } else if (w[0] == "deposit" && w.size() == 3) {
        long amount = parse_amount(w[2].c_str(), line, 3);
        find_account(w[1], line).balance += amount;
    } else if (w[0] == "transfer" && w.size() == 4) {
        long amount = parse_amount(w[3].c_str(), line, 4);
        Account &to = find_account(w[2], line);
        withdraw(find_account(w[1], line), amount);
        to.balance += amount;
    } else {
        throw UnknownCommand{w[0]};
    }
}

// Applies one line; ledger errors are counted here and passed on with `throw;`.
static int errors_seen = 0;

static void apply_counted(const std::string &text, int line) {
    Guard g("apply_counted");
    try {
        apply(text, line);
    } catch (const LedgerError &) {
        errors_seen++;
        throw;
    }
}

static int run(const std::vector<std::string> &lines) {
    int failed = 0;
    for (size_t i = 0; i < lines.size(); i++) {
        int line = (int)i + 1;
        std::printf("line %d: %s\n", line, lines[i].c_str());
        try {
            apply_counted(lines[i], line);
        } catch (const ParseError &e) {
            std::printf("  parse error at %d:%d: %s\n", e.line(), e.column(), e.what());
            failed++;
        } catch (const std::exception &e) {
            std::printf("  error: %s\n", e.what());
            failed++;
        } catch (int code) {
            std::printf("  refused with code %d\n", code);
            failed++;
        } catch (...) {
            std::printf("  unknown command\n");
            failed++;
        }
    }
    return failed;
}

int main() {
    std::vector<std::string> lines = {
        "open alice",
        "open bob",
        "deposit alice 40",
        "deposit bob 4x",
        "transfer alice bob 15",
        "transfer bob alice 100",
        "deposit carol 5",
        "withdraw alice 1",
        "deposit alice -3",
        "transfer alice bob 25",
    };
    int failed = run(lines);
    std::printf("failed lines: %d, ledger errors rethrown: %d\n", failed, errors_seen);
    for (const Account &a : accounts) {
        std::printf("%s %ld\n", a.name.c_str(), a.balance);
    }
    return failed == 5 ? 0 : 1;
}
