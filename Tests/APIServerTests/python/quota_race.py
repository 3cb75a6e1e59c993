"""20 concurrent ConfigMap creates against a ResourceQuota, through Python's `kubernetes`
client, each on its own connection.

Usage: quota_race.py KUBECONFIG NAMESPACE COUNT
Prints the number of creates that succeeded, then each refusal's status code and message.
"""
import sys
import threading
import warnings

from kubernetes import client, config
from kubernetes.client.rest import ApiException

warnings.filterwarnings("ignore")
kubeconfig, namespace, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
config.load_kube_config(kubeconfig)
results = [None] * count
start = threading.Barrier(count)


def create(index):
    api = client.CoreV1Api(client.ApiClient())
    start.wait()
    try:
        api.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"race-{index}")))
        results[index] = "created"
    except ApiException as error:
        results[index] = f"{error.status} {error.body}"


threads = [threading.Thread(target=create, args=(i,)) for i in range(count)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(sum(1 for r in results if r == "created"))
for r in results:
    if r != "created":
        print(r)
