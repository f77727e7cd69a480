"""Network: a VPC with public subnets only — no NAT gateway — and the free gateway endpoints.

The agent task takes no inbound connection and reaches AWS and the internet over its own public
IP; a NAT gateway alone would cost about $33 a month. S3 and DynamoDB traffic goes through
gateway endpoints, which are free and keep backups and history off the public path.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from openclaw_deploy.infra.common import acknowledge
from openclaw_deploy.infra.spec import InfraSpec

VPC_CIDR = "10.42.0.0/16"


class Network(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, spec: InfraSpec) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            vpc_name=spec.prefix,
            ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=24,
                    # RunTask asks for a public IP explicitly; nothing else launches here.
                    map_public_ip_on_launch=False,
                )
            ],
            restrict_default_security_group=False,
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDB": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
            },
        )
        acknowledge(
            self.vpc,
            "AwsSolutions-VPC7",
            "No flow logs: nothing listens in this VPC (the only task has no inbound rule), and "
            "flow logs would cost more per month than the whole deployment.",
        )

    @property
    def subnets(self) -> list[ec2.ISubnet]:
        return list(self.vpc.public_subnets)
