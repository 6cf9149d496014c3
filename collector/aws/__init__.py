"""The AWS source: boto3 discovery (EC2, RDS, ASG, EBS), CloudWatch metrics, Cost Explorer costs, Price List prices."""

from collector.aws.collector import AwsCollector

__all__ = ["AwsCollector"]
