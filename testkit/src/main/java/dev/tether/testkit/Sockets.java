package dev.tether.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * What the kernel says about TCP sockets, read with {@code ss} (package iproute2): the proof that
 * "closed" is closed, independent of any flag in the code under test.
 */
public final class Sockets {

    private static final long SS_TIMEOUT_SECONDS = 20;

    private Sockets() {
    }

    /**
     * @param port a local or remote port on this host (a server's port, or a client's ephemeral port)
     * @return the {@code ss} lines of the ESTABLISHED TCP sockets with this port at either end
     * @throws AssertionError if {@code ss} cannot be run or fails
     */
    public static List<String> established(int port) {
        return query("( sport = :" + port + " or dport = :" + port + " )");
    }

    /**
     * The same for one connection: an ephemeral port alone is not unique on a busy machine (another
     * process may use the same local port towards another destination).
     *
     * @param port      one end's port (e.g. a client's ephemeral port)
     * @param otherPort the other end's port (e.g. the server's)
     * @return the {@code ss} lines of the ESTABLISHED TCP sockets between those two ports
     * @throws AssertionError if {@code ss} cannot be run or fails
     */
    public static List<String> established(int port, int otherPort) {
        return query("( ( sport = :" + port + " and dport = :" + otherPort + " ) or ( sport = :" + otherPort
                + " and dport = :" + port + " ) )");
    }

    /**
     * @param port a local or remote port on this host
     * @return how many ESTABLISHED TCP sockets have this port at either end
     * @throws AssertionError if {@code ss} cannot be run or fails
     */
    public static int establishedOn(int port) {
        return established(port).size();
    }

    /**
     * Polls {@link #establishedOn(int)} every 20 ms until it reaches zero.
     *
     * @param port    the port
     * @param timeout how long to wait
     * @return true if no established socket is left within the timeout
     */
    public static boolean awaitNoneEstablished(int port, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (establishedOn(port) == 0) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    /**
     * For failure messages: never throws.
     *
     * @param port a port on this host
     * @return the {@code ss -tanp} lines of every TCP socket, in any state, with this port at either end
     */
    public static String describe(int port) {
        try {
            Process p = new ProcessBuilder("ss", "-tanp").redirectErrorStream(true).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            p.waitFor(SS_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            StringBuilder sb = new StringBuilder();
            out.lines().filter(l -> l.contains(":" + port + " ")).forEach(l -> sb.append(l).append('\n'));
            return sb.toString();
        } catch (IOException e) {
            return "(ss failed: " + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(interrupted)";
        }
    }

    private static List<String> query(String filter) {
        try {
            Process p = new ProcessBuilder("ss", "-tanH", "state", "established", filter).redirectErrorStream(true).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(SS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("ss did not answer within " + SS_TIMEOUT_SECONDS + " s");
            }
            if (p.exitValue() != 0) {
                throw new AssertionError("ss failed (exit " + p.exitValue() + "): " + out);
            }
            return out.lines().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new AssertionError("cannot run 'ss' (package iproute2), needed to check sockets: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while asking ss", e);
        }
    }
}
