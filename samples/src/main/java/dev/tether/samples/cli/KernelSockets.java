package dev.tether.samples.cli;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Asks the kernel ({@code ss -tan}) how many TCP connections to a remote port are ESTABLISHED: the
 * probes' proof that a transport is really closed, independent of the client's own state.
 */
final class KernelSockets {

    private KernelSockets() {
    }

    /**
     * @param remotePort the peer's port
     * @return the number of ESTABLISHED connections to it, or -1 if {@code ss} is not available
     */
    static int establishedTo(int remotePort) {
        try {
            Process p = new ProcessBuilder("ss", "-tanH", "state", "established", "dport", "= :" + remotePort)
                    .redirectErrorStream(true).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(5, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                return -1;
            }
            return (int) out.lines().filter(l -> !l.isBlank()).count();
        } catch (java.io.IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
