package dev.tether.websocket;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Asks the kernel (through {@code ss}) which TCP sockets exist, so "closed" is proved outside the JVM's own objects. */
final class Kernel {

    private Kernel() {
    }

    /**
     * @param port a local port (a server's port, or a client's ephemeral port)
     * @return the ESTABLISHED TCP sockets whose source or destination port is {@code port}
     */
    static List<String> established(int port) {
        return query("( sport = :" + port + " or dport = :" + port + " )");
    }

    /**
     * The same for one connection: an ephemeral port alone is not unique on a busy machine (another
     * process may use the same local port towards another destination).
     *
     * @param port      one end's port (e.g. our client's ephemeral port)
     * @param otherPort the other end's port (e.g. the server's)
     * @return the ESTABLISHED TCP sockets between those two ports
     */
    static List<String> established(int port, int otherPort) {
        return query("( ( sport = :" + port + " and dport = :" + otherPort + " ) or ( sport = :" + otherPort
                + " and dport = :" + port + " ) )");
    }

    private static List<String> query(String filter) {
        try {
            Process p = new ProcessBuilder("ss", "-tanH", "state", "established", filter).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError("ss failed: " + out);
            }
            return out.lines().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new AssertionError("ss is needed to check sockets: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
