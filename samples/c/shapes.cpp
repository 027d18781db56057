// shapes.cpp - a C++ source-level debugging sample for wdb: classes with
// inheritance, namespaces, references, static members, enums and a linked list.
//
//   shapes           builds a few shapes, prints their areas and the total
//
// Built -O0 -g (shapes-g.wasm) and -O2 -g (shapes-O2g.wasm) by samples/build.sh
// with clang-22 and Debian's libc++ for wasm32-wasi.
#include <cstdio>

namespace geo {

enum class Kind { Circle = 1, Rect = 2 };

struct Point {
    int x;
    int y;
};

class Shape {
public:
    Shape(Kind k, Point at) : kind(k), origin(at), next(nullptr) { ++count; }
    virtual ~Shape() {}
    virtual double area() const = 0;
    Kind kind;
    Point origin;
    Shape *next;
    static int count;
};

int Shape::count = 0;

class Circle : public Shape {
public:
    Circle(Point at, double r) : Shape(Kind::Circle, at), radius(r) {}
    double area() const override { return 3.0 * radius * radius; }
    double radius;
};

class Rect : public Shape {
public:
    Rect(Point at, int w, int h) : Shape(Kind::Rect, at), width(w), height(h) {}
    double area() const override {
        double a = width * height;
        return a;   // line RECT_AREA
    }
    int width;
    int height;
};

} // namespace geo

static geo::Point shift(const geo::Point &p, int dx, int &moves) {
    geo::Point q = {p.x + dx, p.y};
    moves++;
    return q;   // line SHIFT
}

double total_area(const geo::Shape *head) {
    double sum = 0;
    for (const geo::Shape *s = head; s != nullptr; s = s->next) {
        sum += s->area();
    }
    return sum;
}

int main() {
    int moves = 0;
    geo::Point start = {1, 2};
    geo::Point moved = shift(start, 3, moves);
    geo::Circle c(moved, 2.0);
    geo::Rect r(start, 3, 4);
    c.next = &r;
    double total = total_area(&c);
    std::printf("%d shapes, total area %.1f, moves %d\n", geo::Shape::count, total, moves);
    return 0;
}
