// Readiness probe for start.sh: exits 0 once the broker at ARGS[0] answers an admin
// DescribeCluster with at least one *unfenced* broker (fenced ones are left out of the
// answer), i.e. it has caught up with the KRaft metadata and can host partitions.
// A bare TCP check passes earlier than that, and a topic created then can fail.
// Usage: java -cp 'libs/*' Ready.java HOST:PORT TIMEOUT_SECONDS
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

public class Ready {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[1]));
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        String last = "no answer";
        try (Admin admin = Admin.create(p)) {
            while (System.nanoTime() < deadline) {
                // Never wait past the overall deadline on one call.
                long waitMs = Math.max(500, Math.min(5000, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                try {
                    int brokers = admin.describeCluster().nodes().get(waitMs, TimeUnit.MILLISECONDS).size();
                    if (brokers > 0) {
                        admin.listTopics().names().get(waitMs, TimeUnit.MILLISECONDS);
                        System.exit(0);
                    }
                    last = "no unfenced broker yet";
                } catch (Exception e) {
                    last = String.valueOf(e.getCause() != null ? e.getCause() : e);
                }
                Thread.sleep(250);
            }
        }
        System.err.println("kafka at " + bootstrap + " not ready: " + last);
        System.exit(1);
    }
}
