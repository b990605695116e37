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
        try {
            Process p = new ProcessBuilder("ss", "-tanH", "state", "established",
                    "( sport = :" + port + " or dport = :" + port + " )").redirectErrorStream(true).start();
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
