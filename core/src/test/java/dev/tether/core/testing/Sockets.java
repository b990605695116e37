package dev.tether.core.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the kernel says about TCP sockets, read with {@code ss -tan}: the proof that "closed" is
 * closed, independent of any flag in the code under test.
 */
public final class Sockets {

    private Sockets() {
    }

    /**
     * @param port a local or remote port on 127.0.0.1
     * @return how many ESTABLISHED TCP sockets have this port at either end
     */
    public static int establishedOn(int port) {
        try {
            Process p = new ProcessBuilder("ss", "-tanH", "state", "established").redirectErrorStream(true).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("ss did not answer within 10 s");
            }
            int count = 0;
            String suffix = ":" + port;
            for (String line : out.split("\n")) {
                List<String> cols = List.of(line.trim().split("\\s+"));
                if (cols.size() >= 4 && (cols.get(cols.size() - 2).endsWith(suffix) || cols.get(cols.size() - 1).endsWith(suffix))) {
                    count++;
                }
            }
            return count;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run 'ss -tan' (package iproute2): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * @param port a port on 127.0.0.1
     * @return the {@code ss -tan} lines of every TCP socket with this port at either end, for failure messages
     */
    public static String describe(int port) {
        try {
            Process p = new ProcessBuilder("ss", "-tanp").redirectErrorStream(true).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            p.waitFor(10, TimeUnit.SECONDS);
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

    /**
     * Polls {@link #establishedOn(int)} until it reaches zero.
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
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }
}
