/* nbody.c - gravitational n-body simulation in f64 (sun and four planets):
 * floating-point arithmetic, sqrt, small arrays of structs.
 * Usage: nbody [scale] */
#include <math.h>
#include "sample.h"

#define STEPS 8500000 /* steps at scale 1 */
#define NBODIES 5

struct body { double x, y, z, vx, vy, vz, mass; };

static const double PI = 3.141592653589793;
#define SOLAR_MASS (4.0 * PI * PI)
#define DAYS_PER_YEAR 365.24

static void init_bodies(struct body *b) {
    /* sun, then four outer planets (positions in AU, velocities in AU/day) */
    static const double init[NBODIES][7] = {
        {0, 0, 0, 0, 0, 0, 1.0},
        {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
         1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05,
         9.54791938424326609e-04},
        {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
         -2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05,
         2.85885980666130812e-04},
        {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
         2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05,
         4.36624404335156298e-05},
        {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
         2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05,
         5.15138902046611451e-05},
    };
    for (int i = 0; i < NBODIES; i++) {
        b[i].x = init[i][0]; b[i].y = init[i][1]; b[i].z = init[i][2];
        b[i].vx = init[i][3] * DAYS_PER_YEAR;
        b[i].vy = init[i][4] * DAYS_PER_YEAR;
        b[i].vz = init[i][5] * DAYS_PER_YEAR;
        b[i].mass = init[i][6] * SOLAR_MASS;
    }
    /* give the sun the momentum that makes the total zero */
    double px = 0, py = 0, pz = 0;
    for (int i = 0; i < NBODIES; i++) {
        px += b[i].vx * b[i].mass; py += b[i].vy * b[i].mass; pz += b[i].vz * b[i].mass;
    }
    b[0].vx = -px / SOLAR_MASS; b[0].vy = -py / SOLAR_MASS; b[0].vz = -pz / SOLAR_MASS;
}

static double energy(const struct body *b) {
    double e = 0.0;
    for (int i = 0; i < NBODIES; i++) {
        e += 0.5 * b[i].mass * (b[i].vx * b[i].vx + b[i].vy * b[i].vy + b[i].vz * b[i].vz);
        for (int j = i + 1; j < NBODIES; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            e -= b[i].mass * b[j].mass / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

SAMPLE_NOINLINE static void advance(struct body *b, double dt) {
    for (int i = 0; i < NBODIES; i++) {
        for (int j = i + 1; j < NBODIES; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * sqrt(d2));
            b[i].vx -= dx * b[j].mass * mag; b[i].vy -= dy * b[j].mass * mag; b[i].vz -= dz * b[j].mass * mag;
            b[j].vx += dx * b[i].mass * mag; b[j].vy += dy * b[i].mass * mag; b[j].vz += dz * b[i].mass * mag;
        }
    }
    for (int i = 0; i < NBODIES; i++) {
        b[i].x += dt * b[i].vx; b[i].y += dt * b[i].vy; b[i].z += dt * b[i].vz;
    }
}

int main(int argc, char **argv) {
    double scale = sample_scale(argc, argv);
    int64_t steps = sample_count(STEPS, scale, 1);
    struct body bodies[NBODIES];
    init_bodies(bodies);
    double t0 = sample_now_ms();
    double e0 = energy(bodies);
    for (int64_t s = 0; s < steps; s++) advance(bodies, 0.01);
    double e1 = energy(bodies);
    double t1 = sample_now_ms();
    uint64_t h = sample_mix(sample_f64_bits(e0), sample_f64_bits(e1));
    for (int i = 0; i < NBODIES; i++) h = sample_mix(h, sample_f64_bits(bodies[i].x));
    sample_report(h, t0, t1);
    return 0;
}
