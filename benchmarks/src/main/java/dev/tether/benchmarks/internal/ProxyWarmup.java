package dev.tether.benchmarks.internal;

import dev.tether.testkit.FaultProxy;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.UUID;

/**
 * Runs the harness's own part of a reconnect many times before the side-by-side reconnect runs: a blocking socket
 * connects through a {@link FaultProxy} to the broker, sends CONNECT, reads CONNACK, and the proxy resets the
 * connection. The proxy lives in the harness JVM and does its accept, upstream connect, forwarding and reset once per
 * reconnect of every contender; without this its code would run interpreted in the measured cuts (a few hundred per
 * run), adding the harness's cold code to every contender's figure, the floor's included.
 */
final class ProxyWarmup {

    /** Cycles before the measured runs, bounded by {@link #BUDGET} as well. */
    static final int CYCLES = 3_000;
    static final Duration BUDGET = Duration.ofSeconds(20);

    private ProxyWarmup() {
    }

    /**
     * @param brokerPort the broker the contenders reconnect to
     * @return the cycles run (stops early at the first failure or when the time budget is spent)
     * @throws IOException if not a single cycle succeeds
     */
    static int run(int brokerPort) throws IOException {
        byte[] connect = FloorDriver.connectPacket("bench-warm-" + UUID.randomUUID().toString().substring(0, 8));
        long deadline = System.nanoTime() + BUDGET.toNanos();
        int done = 0;
        try (FaultProxy proxy = FaultProxy.start("127.0.0.1", brokerPort)) {
            while (done < CYCLES && System.nanoTime() < deadline) {
                try (Socket s = FloorDriver.handshake("127.0.0.1", proxy.port(), connect)) {
                    proxy.cutAll();
                    s.setSoTimeout(5_000);
                    InputStream in = s.getInputStream();
                    while (in.read() >= 0) {
                        // nothing arrives on an idle connection; the reset ends the read
                    }
                } catch (IOException e) {
                    // The reset is the expected end; anything else stops the warm-up (and fails it if nothing ran).
                    if (!isReset(e)) {
                        if (done == 0) {
                            throw e;
                        }
                        return done;
                    }
                }
                done++;
            }
        }
        return done;
    }

    private static boolean isReset(IOException e) {
        return e instanceof java.net.SocketException && String.valueOf(e.getMessage()).contains("reset");
    }
}
