package dev.tether.samples.cli;

import dev.tether.samples.LifecycleJson;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code tether} command: the demo of the field reports on embedded defaults, probes for
 * real brokers and WebSocket endpoints, a lifecycle watcher, and a resilient WebSocket server.
 */
@Command(name = "tether", mixinStandardHelpOptions = true, version = "tether 0.1.0",
        description = "Keeps MQTT and WebSocket connections alive and shows what they really do.",
        footer = {"", "The launcher also runs:",
                "  ./tether service          the Spring WebFlux telemetry service, on embedded defaults",
                "  ./tether bench [--quick]  the side-by-side benchmarks (writes benchmarks/results/latest.{json,md})"},
        subcommands = {DemoCommand.class, ProbeCommand.class, WatchCommand.class, ServeCommand.class, PublishCommand.class,
                CommandLine.HelpCommand.class})
public final class TetherCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * Runs the command and exits with its code.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /**
     * Runs the command without exiting (for tests).
     *
     * @param out  standard output
     * @param err  standard error
     * @param args the command line
     * @return the exit code: 0 success, 1 a check failed or the target misbehaved, 2 usage error
     */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new TetherCommand());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            line.getErr().println("tether: " + oneLine(ex));
            return 1;
        });
        cl.setParameterExceptionHandler((ex, args1) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("tether: " + ex.getMessage());
            c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for usage.");
            return 2;
        });
        return cl.execute(args);
    }

    /** @return a one-line description of a failure: its message, and the root cause's when different */
    static String oneLine(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String msg = LifecycleJson.message(t);
        String rootMsg = LifecycleJson.message(root);
        return root == t || msg.contains(rootMsg) ? msg : msg + " (" + rootMsg + ")";
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
